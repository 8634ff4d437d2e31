// Settings: the office (name, prompt language, country, time zone) and my account (password, sessions, API tokens).
import { html, nothing, type TemplateResult } from 'lit';
import { PageElement } from '../components/page.js';
import { field, fieldErrors, formError, formValues } from '../components/form-field.js';
import '../components/email-settings.js';
import { changePassword, createToken, deleteToken, hasRight, listTokens, logout, type ApiTokenInfo } from '../data/session.js';
import { getSettings, updateSettings, type SiteSettings } from '../data/settings.js';
import { formatDateTime, setTimeZone, t } from '../i18n.js';

function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  return intl.supportedValuesOf?.('timeZone') ?? ['Europe/Paris', 'Europe/Madrid', 'Europe/London', 'America/New_York', 'UTC'];
}

export class PageSettings extends PageElement {
  static override properties = {
    ...PageElement.properties,
    settings: { state: true },
    errors: { state: true },
    saved: { state: true },
    pwErrors: { state: true },
    pwDone: { state: true },
    tokens: { state: true },
    tokenSecret: { state: true },
    tokenErrors: { state: true },
  };
  declare settings: SiteSettings | undefined;
  declare errors: Record<string, string>;
  declare saved: boolean;
  declare pwErrors: Record<string, string>;
  declare pwDone: boolean;
  declare tokens: ApiTokenInfo[];
  declare tokenSecret: string;
  declare tokenErrors: Record<string, string>;

  constructor() {
    super();
    this.errors = {};
    this.saved = false;
    this.pwErrors = {};
    this.pwDone = false;
    this.tokens = [];
    this.tokenSecret = '';
    this.tokenErrors = {};
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    [this.settings, this.tokens] = await Promise.all([getSettings(), listTokens()]);
  }

  private async save(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = formValues(form);
    this.errors = {};
    this.saved = false;
    try {
      this.settings = await updateSettings({
        name: v.office ?? '',
        language: (v.sitelanguage ?? 'en') as SiteSettings['language'],
        country: (v.country ?? 'FR') as SiteSettings['country'],
        timezone: v.timezone ? v.timezone : null,
        httpsRedirect: (form.querySelector('#httpsredirect') as HTMLInputElement | null)?.checked === true,
      });
      setTimeZone(this.settings.effectiveTimezone);
      this.saved = true;
    } catch (err) {
      this.errors = fieldErrors(err, { name: 'office', language: 'sitelanguage' });
    }
  }

  private async password(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = formValues(form);
    this.pwErrors = {};
    this.pwDone = false;
    if (v.newpassword !== v.confirmpassword) {
      this.pwErrors = { confirmpassword: t('passwordsDiffer') };
      return;
    }
    try {
      await changePassword(v.currentpassword ?? '', v.newpassword ?? '');
      form.reset();
      this.pwDone = true;
    } catch (err) {
      this.pwErrors = fieldErrors(err, { current: 'currentpassword', password: 'newpassword' });
    }
  }

  private async addToken(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = formValues(form);
    this.tokenErrors = {};
    try {
      const r = await createToken(v.tokenname ?? '');
      this.tokenSecret = t('tokenOnce', { name: r.token.name, secret: r.secret });
      form.reset();
      this.tokens = await listTokens();
    } catch (err) {
      this.tokenErrors = fieldErrors(err, { name: 'tokenname' });
    }
  }

  private office(s: SiteSettings): TemplateResult {
    const editable = hasRight(this.user, 'settings');
    return html`<section class="card" aria-labelledby="office-h">
      <h2 id="office-h">${t('settingsTitle')}</h2>
      <form class="inline" @submit=${(e: Event) => void this.save(e)}>
        <fieldset ?disabled=${!editable} style="border:0;padding:0">
          ${field({ id: 'office', label: t('officeName'), value: s.name, error: this.errors.office })}
          ${field({ id: 'sitelanguage', label: t('siteLanguage'), value: s.language, options: [{ value: 'fr', label: 'Français' }, { value: 'en', label: 'English' }, { value: 'es', label: 'Español' }], error: this.errors.sitelanguage })}
          ${field({ id: 'country', label: t('country'), value: s.country, options: ['FR', 'ES', 'UK', 'US'].map((c) => ({ value: c, label: c })), error: this.errors.country })}
          ${field({ id: 'timezone', label: t('timezone'), value: s.timezone ?? '', options: [{ value: '', label: t('timezoneBox', { tz: s.effectiveTimezone }) }, ...timeZones().map((z) => ({ value: z, label: z }))], error: this.errors.timezone })}
          <label><input type="checkbox" role="switch" id="httpsredirect" name="httpsredirect" aria-describedby="httpsredirect-hint" .checked=${s.httpsRedirect} /> ${t('httpsRedirect')}</label>
          <p id="httpsredirect-hint" class="hint">${t('httpsRedirectHint')}</p>
        </fieldset>
        ${editable ? html`<button type="submit">${t('save')}</button>` : nothing}
      </form>
      ${this.saved ? html`<p class="success" role="status">${t('saved')}</p>` : nothing} ${formError(this.errors)}
    </section>`;
  }

  private account(): TemplateResult {
    return html`<section class="card" aria-labelledby="account-h">
        <h2 id="account-h">${t('accountTitle')}</h2>
        <form class="inline" @submit=${(e: Event) => void this.password(e)} aria-label=${t('changePassword')}>
          <input type="text" name="username" autocomplete="username" .value=${this.user.username} hidden />
          ${field({ id: 'currentpassword', label: t('currentPassword'), type: 'password', autocomplete: 'current-password', required: true, error: this.pwErrors.currentpassword })}
          ${field({ id: 'newpassword', label: t('newPassword'), type: 'password', autocomplete: 'new-password', required: true, error: this.pwErrors.newpassword })}
          ${field({ id: 'confirmpassword', label: t('confirmPassword'), type: 'password', autocomplete: 'new-password', required: true, error: this.pwErrors.confirmpassword })}
          <button type="submit">${t('changePassword')}</button>
        </form>
        ${this.pwDone ? html`<p class="success" role="status">${t('passwordChanged')}</p>` : nothing} ${formError(this.pwErrors)}
        <p><button class="secondary" @click=${() => void logout(true).then(() => location.assign('/login'))}>${t('logoutEverywhere')}</button></p>
      </section>
      <section class="card" aria-labelledby="tokens-h">
        <h2 id="tokens-h">${t('tokensTitle')}</h2>
        ${this.tokenSecret ? html`<p class="success" role="status">${this.tokenSecret}</p>` : nothing}
        ${this.tokens.length === 0
          ? html`<p class="empty">${t('noTokens')}</p>`
          : html`<table>
              <thead>
                <tr><th scope="col">${t('name')}</th><th scope="col">${t('started')}</th><th scope="col">${t('lastUsed')}</th><th scope="col">${t('actions')}</th></tr>
              </thead>
              <tbody>
                ${this.tokens.map(
                  (k) => html`<tr>
                    <td>${k.name}</td>
                    <td>${formatDateTime(k.createdAt)}</td>
                    <td>${formatDateTime(k.lastUsedAt)}</td>
                    <td><button class="danger" @click=${() => void deleteToken(k.id).then(() => this.load())} aria-label="${t('delete')} ${k.name}">${t('delete')}</button></td>
                  </tr>`,
                )}
              </tbody>
            </table>`}
        <form class="inline" @submit=${(e: Event) => void this.addToken(e)}>
          ${field({ id: 'tokenname', label: t('tokenName'), required: true, error: this.tokenErrors.tokenname })}
          <button type="submit">${t('create')}</button>
        </form>
        ${formError(this.tokenErrors)}
      </section>`;
  }

  override render(): TemplateResult {
    if (!this.settings) return html`<p>${t('loading')}</p>`;
    return html`<h1>${t('navSettings')}</h1>
      ${this.office(this.settings)} ${hasRight(this.user, 'admin') ? html`<email-settings-form .lang=${this.lang}></email-settings-form>` : ''} ${this.account()}`;
  }
}

customElements.define('page-settings', PageSettings);
