// Login, and first-run setup (the admin chooses his password with the token printed on the terminal).
import { LitElement, html, nothing, type TemplateResult } from 'lit';
import { ApiError } from '../data/api.js';
import { completeSetup, login } from '../data/session.js';
import { pageStyles } from '../components/styles.js';
import { field, fieldErrors, formError, formValues } from '../components/form-field.js';
import { t } from '../i18n.js';

export class RelaisLogin extends LitElement {
  static override properties = { mode: { attribute: false }, errors: { state: true }, busy: { state: true } };
  static override styles = [pageStyles];
  declare mode: 'login' | 'setup';
  declare errors: Record<string, string>;
  declare busy: boolean;

  constructor() {
    super();
    this.mode = 'login';
    this.errors = {};
    this.busy = false;
  }

  private async submit(e: Event): Promise<void> {
    e.preventDefault();
    const v = formValues(e.target as HTMLFormElement);
    this.errors = {};
    if (this.mode === 'setup' && v.password !== v.confirm) {
      this.errors = { confirm: t('passwordsDiffer') };
      return;
    }
    this.busy = true;
    try {
      const user = this.mode === 'setup' ? await completeSetup(v.token ?? '', v.password ?? '') : await login(v.username ?? '', v.password ?? '');
      this.dispatchEvent(new CustomEvent('logged-in', { detail: user, bubbles: true, composed: true }));
    } catch (err) {
      this.errors = err instanceof ApiError && err.code === 'auth.invalid' ? { _form: err.message } : fieldErrors(err);
    } finally {
      this.busy = false;
    }
  }

  override render(): TemplateResult {
    const setup = this.mode === 'setup';
    const token = new URLSearchParams(location.search).get('token') ?? '';
    return html`<main class="login">
      <section class="card" style="max-width:26rem;margin:10vh auto">
        <h1>${setup ? t('setupTitle') : t('loginTitle')}</h1>
        ${setup ? html`<p>${t('setupText')}</p>` : nothing}
        <form @submit=${(e: Event) => void this.submit(e)} style="display:flex;flex-direction:column;gap:0.75rem">
          ${setup
            ? html`${field({ id: 'token', label: t('setupToken'), value: token, required: true, error: this.errors.token })}
              ${field({ id: 'password', label: t('newPassword'), type: 'password', required: true, autocomplete: 'new-password', error: this.errors.password })}
              ${field({ id: 'confirm', label: t('confirmPassword'), type: 'password', required: true, autocomplete: 'new-password', error: this.errors.confirm })}`
            : html`${field({ id: 'username', label: t('username'), required: true, autocomplete: 'username', error: this.errors.username })}
              ${field({ id: 'password', label: t('password'), type: 'password', required: true, autocomplete: 'current-password', error: this.errors.password })}`}
          ${formError(this.errors)}
          <button type="submit" ?disabled=${this.busy}>${setup ? t('setupButton') : t('loginButton')}</button>
        </form>
      </section>
    </main>`;
  }
}

customElements.define('relais-login', RelaisLogin);
