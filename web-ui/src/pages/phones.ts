// Desk phones: every phone seen or assigned with its status and why, assign an extension (or the next free one),
// ask a registered phone to fetch its configuration again, plug-and-play and auto-assign switches.
import { html, nothing, type TemplateResult } from 'lit';
import { PageElement } from '../components/page.js';
import { fieldErrors, formError } from '../components/form-field.js';
import { live } from '../data/live.js';
import { assignNext, assignPhone, checkSync, listPhones, updatePhoneSettings, type PhoneEntry, type PhoneList } from '../data/phones.js';
import { formatDateTime, t } from '../i18n.js';

const BADGE: Record<string, string> = { registered: 'ok', provisioned: '', unassigned: '', failing: 'bad' };
const STATUS = { unassigned: 'phoneStatusUnassigned', provisioned: 'phoneStatusProvisioned', registered: 'phoneStatusRegistered', failing: 'phoneStatusFailing' } as const;

export class PagePhones extends PageElement {
  static override properties = { ...PageElement.properties, data: { state: true }, errors: { state: true }, notice: { state: true } };
  declare data: PhoneList | undefined;
  declare errors: Record<string, string>;
  declare notice: string;
  private off: (() => void) | undefined;

  constructor() {
    super();
    this.errors = {};
    this.notice = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    this.off = live.subscribe((_s, e) => {
      if (e && (e.type.startsWith('phone.') || e.type.startsWith('registration.'))) void this.load();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }

  private async load(): Promise<void> {
    this.data = await listPhones();
  }

  private async run(action: () => Promise<unknown>, notice = ''): Promise<void> {
    this.errors = {};
    try {
      await action();
      this.notice = notice;
      await this.load();
    } catch (err) {
      this.errors = fieldErrors(err);
    }
  }

  private assign(e: Event, p: PhoneEntry): void {
    e.preventDefault();
    const input = (e.target as HTMLFormElement).querySelector('input') as HTMLInputElement;
    void this.run(() => assignPhone(p.mac, input.value.trim() === '' ? null : input.value.trim()));
  }

  private row(p: PhoneEntry): TemplateResult {
    return html`<tr>
      <td><code>${p.mac}</code>${p.label ? html`<br /><span class="muted">${p.label}</span>` : nothing}</td>
      <td>${p.vendor ?? '?'} ${p.model ?? ''}${p.firmware ? html`<br /><span class="muted">${p.firmware}</span>` : nothing}</td>
      <td>${p.ip ?? ''}</td>
      <td>
        <form class="inline" @submit=${(e: Event) => this.assign(e, p)}>
          <label class="visually-hidden" for="ext-${p.mac}">${t('extension')} ${p.mac}</label>
          <input id="ext-${p.mac}" size="6" inputmode="numeric" .value=${p.extension ?? ''} />
          <button type="submit">${t('assign')}</button>
        </form>
        ${p.extension ? nothing : html`<button @click=${() => void this.run(() => assignNext(p.mac))}>${t('assignNext')}</button>`}
      </td>
      <td><span class="badge ${BADGE[p.status] ?? ''}">${t(STATUS[p.status])}</span><br /><span class="muted">${p.reason}</span></td>
      <td>${p.lastFetch ? html`${formatDateTime(p.lastFetch.at)} (${p.lastFetch.via}${p.lastFetch.secrets ? '' : `, ${t('noSecrets')}`})` : ''}</td>
      <td>
        ${p.status === 'registered'
          ? html`<button @click=${() => void this.run(() => checkSync(p.mac, false), t('checkSyncSent'))} aria-label="${t('checkSync')} ${p.mac}">${t('checkSync')}</button>`
          : nothing}
      </td>
    </tr>`;
  }

  override render(): TemplateResult {
    const d = this.data;
    if (!d) return html`<p>${t('loading')}</p>`;
    const toggle = (key: 'pnp' | 'autoAssign' | 'tls', label: string): TemplateResult => html`<div class="field">
      <label for="set-${key}"><input id="set-${key}" type="checkbox" .checked=${d.settings[key]} @change=${(e: Event) => void this.run(() => updatePhoneSettings({ [key]: (e.target as HTMLInputElement).checked }))} /> ${label}</label>
    </div>`;
    return html`<h1>${t('navPhones')}</h1>
      <section class="card" aria-labelledby="phones-h">
        <h2 id="phones-h">${t('phonesInventory')}</h2>
        ${this.notice ? html`<p role="status">${this.notice}</p>` : nothing}
        ${d.phones.length === 0
          ? html`<p class="empty">${t('noPhonesSeen')}</p>`
          : html`<table>
              <thead>
                <tr>
                  <th scope="col">MAC</th><th scope="col">${t('phoneModel')}</th><th scope="col">IP</th><th scope="col">${t('extension')}</th>
                  <th scope="col">${t('status')}</th><th scope="col">${t('lastFetch')}</th><th scope="col">${t('actions')}</th>
                </tr>
              </thead>
              <tbody>${d.phones.map((p) => this.row(p))}</tbody>
            </table>`}
        ${formError(this.errors)}
      </section>
      <section class="card" aria-labelledby="phones-set-h">
        <h2 id="phones-set-h">${t('phonesSettings')}</h2>
        ${toggle('pnp', t('phonesPnp'))} ${toggle('autoAssign', t('phonesAutoAssign'))} ${toggle('tls', t('phonesTls'))}
        <p class="muted">${t('phonesUrl')} <code>${d.urls.bootstrap}</code></p>
      </section>`;
  }
}

customElements.define('page-phones', PagePhones);
