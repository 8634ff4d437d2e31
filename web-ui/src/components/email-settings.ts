// Settings › E-mail notifications (administrators): the office's SMTP server, who gets which notification, a test send.
import { LitElement, html, nothing, type TemplateResult } from 'lit';
import { field, fieldErrors, formError, formValues } from './form-field.js';
import { pageStyles } from './styles.js';
import { NOTIFY_KINDS, getEmailSettings, saveEmailSettings, sendTestEmail, type EmailSettings, type NotifyKind } from '../data/notifications.js';
import { t, type MessageKey } from '../i18n.js';

const KIND_LABEL: Record<NotifyKind, MessageKey> = { voicemail: 'emailKindVoicemail', missed: 'emailKindMissed', callback: 'emailKindCallback', alert: 'emailKindAlert' };

export class EmailSettingsForm extends LitElement {
  static override properties = { lang: { attribute: false }, settings: { state: true }, errors: { state: true }, done: { state: true } };
  static override styles = [pageStyles];
  declare lang: string;
  declare settings: EmailSettings | undefined;
  declare errors: Record<string, string>;
  declare done: string;

  constructor() {
    super();
    this.errors = {};
    this.done = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void getEmailSettings().then((s) => (this.settings = s));
  }

  private async save(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const v = formValues(form);
    const checked = (id: string): boolean => (form.querySelector(`#${id}`) as HTMLInputElement).checked;
    this.errors = {};
    this.done = '';
    try {
      this.settings = await saveEmailSettings({
        enabled: checked('em-enabled'),
        host: v['em-host'] ?? '',
        port: Number(v['em-port'] || 0),
        security: (v['em-security'] ?? 'starttls') as EmailSettings['security'],
        user: v['em-user'] ?? '',
        ...(v['em-password'] ? { password: v['em-password'] } : {}),
        from: v['em-from'] ?? '',
        to: (v['em-to'] ?? '').split(/[,;\s]+/).filter(Boolean),
        mailboxOwners: checked('em-owners'),
        kinds: NOTIFY_KINDS.filter((k) => checked(`em-kind-${k}`)),
      });
      this.done = t('saved');
    } catch (err) {
      this.errors = fieldErrors(err, { host: 'em-host', port: 'em-port', security: 'em-security', user: 'em-user', password: 'em-password', from: 'em-from', to: 'em-to' });
    }
  }

  private async test(): Promise<void> {
    this.errors = {};
    this.done = '';
    try {
      const r = await sendTestEmail();
      this.done = t('emailTestSent', { to: r.to.join(', ') });
    } catch (err) {
      this.errors = fieldErrors(err, { host: 'em-host', to: 'em-to' });
    }
  }

  override render(): TemplateResult {
    const s = this.settings;
    if (!s) return html`<p>${t('loading')}</p>`;
    const box = (id: string, label: string, on: boolean): TemplateResult => html`<div class="check"><input type="checkbox" id=${id} ?checked=${on} /> <label for=${id}>${label}</label></div>`;
    return html`<section class="card" aria-labelledby="email-h">
      <h2 id="email-h">${t('emailTitle')}</h2>
      <p>${t('emailHelp')}</p>
      <form class="inline" aria-labelledby="email-h" @submit=${(e: Event) => void this.save(e)} novalidate>
        ${box('em-enabled', t('emailEnabled'), s.enabled)}
        ${field({ id: 'em-host', label: t('emailHost'), value: s.host, error: this.errors['em-host'] })}
        ${field({ id: 'em-port', label: t('emailPort'), type: 'number', value: String(s.port), min: 1, max: 65535, error: this.errors['em-port'] })}
        ${field({ id: 'em-security', label: t('emailSecurity'), value: s.security, options: [{ value: 'starttls', label: 'STARTTLS' }, { value: 'tls', label: 'TLS (465)' }, { value: 'none', label: t('emailNoTls') }], error: this.errors['em-security'] })}
        ${field({ id: 'em-user', label: t('emailUser'), value: s.user, error: this.errors['em-user'] })}
        ${field({ id: 'em-password', label: s.hasPassword ? t('emailPasswordKept') : t('password'), type: 'password', autocomplete: 'new-password', error: this.errors['em-password'] })}
        ${field({ id: 'em-from', label: t('emailFrom'), type: 'email', value: s.from, error: this.errors['em-from'] })}
        ${field({ id: 'em-to', label: t('emailTo'), value: s.to.join(', '), error: this.errors['em-to'] })}
        <fieldset>
          <legend>${t('emailKinds')}</legend>
          ${NOTIFY_KINDS.map((k) => box(`em-kind-${k}`, t(KIND_LABEL[k]), s.kinds.includes(k)))} ${box('em-owners', t('emailOwners'), s.mailboxOwners)}
        </fieldset>
        <div class="row-actions">
          <button type="submit">${t('emailSave')}</button>
          <button type="button" class="secondary" @click=${() => void this.test()}>${t('emailTest')}</button>
        </div>
      </form>
      ${this.done ? html`<p class="success" role="status">${this.done}</p>` : nothing} ${formError(this.errors)}
    </section>`;
  }
}

customElements.define('email-settings-form', EmailSettingsForm);
