// System: version, network, uptime; the board (LEDs, reset button) and firmware updates; backup download and restore
// upload with progress; the log tail; the audit log.
import { html, nothing, type TemplateResult } from 'lit';
import { PageElement } from '../components/page.js';
import { fieldErrors, formError } from '../components/form-field.js';
import { BACKUP_URL, cancelRestore, getLogs, getSystem, listAudit, uploadRestore, type AuditEntry, type SystemInfo } from '../data/system.js';
import { getBoard, getUpdate, pressButton, uploadBundle, type BoardState, type LedName, type UpdateStatus } from '../data/appliance.js';
import { formatDateTime, formatUptime, t, type MessageKey } from '../i18n.js';

const LEDS: [LedName, MessageKey][] = [['power', 'ledPower'], ['phones', 'ledPhones'], ['calls', 'ledCalls'], ['update', 'ledUpdate'], ['error', 'ledError']];

export class PageSystem extends PageElement {
  static override properties = { ...PageElement.properties, board: { state: true }, firmware: { state: true }, fwProgress: { state: true }, fwErrors: { state: true }, info: { state: true }, logs: { state: true }, audit: { state: true }, progress: { state: true }, errors: { state: true } };
  declare info: SystemInfo | undefined;
  declare logs: string[];
  declare audit: AuditEntry[];
  declare progress: number | null;
  declare errors: Record<string, string>;
  declare board: BoardState | undefined;
  declare firmware: UpdateStatus | undefined;
  declare fwProgress: number | null;
  declare fwErrors: Record<string, string>;

  constructor() {
    super();
    this.fwProgress = null;
    this.fwErrors = {};
    this.logs = [];
    this.audit = [];
    this.progress = null;
    this.errors = {};
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    const [info, logs, audit] = await Promise.all([getSystem(), getLogs(100), listAudit({ limit: 50 })]);
    this.info = info;
    this.logs = logs;
    this.audit = audit.entries;
    await this.loadAppliance();
  }

  private async loadAppliance(): Promise<void> {
    const [board, update] = await Promise.all([getBoard().catch(() => undefined), getUpdate().catch(() => undefined)]);
    this.board = board;
    this.firmware = update;
  }

  private async button(action: 'press' | 'release' | 'announce-ip'): Promise<void> {
    await pressButton(action);
    await this.loadAppliance();
  }

  private async install(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const file = (form.querySelector('#bundlefile') as HTMLInputElement).files?.[0];
    if (!file) return;
    const allow = (form.querySelector('#allowdowngrade') as HTMLInputElement).checked;
    this.fwErrors = {};
    this.fwProgress = 0;
    try {
      await uploadBundle(file, allow, (f) => (this.fwProgress = f));
    } catch (err) {
      this.fwErrors = fieldErrors(err, { bundle: 'bundlefile' });
    } finally {
      this.fwProgress = null;
      await this.loadAppliance();
    }
  }

  private renderBoard(): TemplateResult | typeof nothing {
    const b = this.board;
    if (!b) return nothing;
    return html`<section class="card" aria-labelledby="board-h">
      <h2 id="board-h">${t('boardTitle')}: ${b.simulated ? t('boardSimulated') : b.title}</h2>
      <table>
        <tbody>
          ${LEDS.map(([led, key]) => html`<tr><th scope="row">${t(key)}</th><td data-led=${led}>${b.leds[led]}</td></tr>`)}
          <tr><th scope="row">${t('boardButton')}</th><td>${b.button.phase}${b.button.lastAction ? ` (${b.button.lastAction.action}, ${formatDateTime(Date.parse(b.button.lastAction.at))})` : ''}</td></tr>
        </tbody>
      </table>
      <p>
        <button class="secondary" @click=${() => void this.button('announce-ip')}>${t('boardShowIp')}</button>
        ${b.simulated
          ? html`<button class="secondary" @click=${() => void this.button('press')}>${t('boardPress')}</button>
              <button class="secondary" @click=${() => void this.button('release')}>${t('boardRelease')}</button>`
          : nothing}
        <button class="secondary" @click=${() => void this.loadAppliance()}>${t('refresh')}</button>
      </p>
    </section>`;
  }

  private renderFirmware(): TemplateResult {
    const u = this.firmware;
    if (!u) return html`<section class="card" aria-labelledby="fw-h"><h2 id="fw-h">${t('firmwareTitle')}</h2><p>${t('firmwareUnavailable')}</p></section>`;
    return html`<section class="card" aria-labelledby="fw-h">
      <h2 id="fw-h">${t('firmwareTitle')}</h2>
      <table>
        <tbody>
          <tr><th scope="row">${t('version')}</th><td>${u.currentVersion} (${u.compatible}, ${u.bootSlot})</td></tr>
          <tr><th scope="row">${t('firmwareState')}</th><td>${u.state}${u.progress ? ` — ${u.progress.percent} % ${u.progress.message}` : ''}${u.error ? html`<div class="error" role="alert">${u.error.message}</div>` : nothing}</td></tr>
          <tr><th scope="row">${t('firmwareSlots')}</th><td>${u.slots.map((s) => html`<div>${s.name} (${s.bootname ?? ''}): ${s.state}, ${s.bootStatus ?? ''} ${s.bundleVersion ?? ''}</div>`)}</td></tr>
        </tbody>
      </table>
      <form class="inline" @submit=${(e: Event) => void this.install(e)}>
        <div class="field">
          <label for="bundlefile">${t('firmwareUpload')}</label>
          <input id="bundlefile" type="file" accept=".raucb" required aria-invalid=${this.fwErrors.bundlefile ? 'true' : 'false'} />
          ${this.fwErrors.bundlefile ? html`<span class="error" role="alert">${this.fwErrors.bundlefile}</span>` : nothing}
        </div>
        <div class="field">
          <label><input id="allowdowngrade" type="checkbox" /> ${t('firmwareAllowDowngrade')}</label>
        </div>
        <button type="submit" ?disabled=${this.fwProgress !== null}>${t('upload')}</button>
      </form>
      ${this.fwProgress !== null
        ? html`<label for="fw-progress">${t('uploading', { percent: Math.round(this.fwProgress * 100) })}</label>
            <progress id="fw-progress" max="100" value=${Math.round(this.fwProgress * 100)}></progress>`
        : nothing}
      ${formError(this.fwErrors)}
      ${u.history.length
        ? html`<h3>${t('firmwareHistory')}</h3>
            <ul>${u.history.map((h) => html`<li>${formatDateTime(h.startedAt)}: ${h.version} → ${h.slot ?? '—'}, ${h.state}${h.message ? ` (${h.message})` : ''}</li>`)}</ul>`
        : nothing}
    </section>`;
  }

  private async restore(e: Event): Promise<void> {
    e.preventDefault();
    const file = ((e.target as HTMLFormElement).querySelector('#backupfile') as HTMLInputElement).files?.[0];
    if (!file) return;
    this.errors = {};
    this.progress = 0;
    try {
      await uploadRestore(file, (f) => (this.progress = f));
      await this.load();
    } catch (err) {
      this.errors = fieldErrors(err, { file: 'backupfile' });
    } finally {
      this.progress = null;
    }
  }

  override render(): TemplateResult {
    const i = this.info;
    if (!i) return html`<p>${t('loading')}</p>`;
    return html`<h1>${t('systemTitle')}</h1>
      <div class="grid">
        <section class="card" aria-labelledby="sys-h">
          <h2 id="sys-h">${t('systemTitle')}</h2>
          <table>
            <tbody>
              <tr><th scope="row">${t('version')}</th><td>${i.version}</td></tr>
              <tr><th scope="row">${t('hostname')}</th><td>${i.hostname}</td></tr>
              <tr><th scope="row">${t('uptime')}</th><td>${formatUptime(i.uptimeS)}</td></tr>
              <tr><th scope="row">${t('network')}</th><td>${i.network.map((n) => html`<div>${n.name}: ${n.cidr ?? n.address}</div>`)}</td></tr>
            </tbody>
          </table>
        </section>
        <section class="card" aria-labelledby="backup-h">
          <h2 id="backup-h">${t('backupTitle')}</h2>
          <p><a class="button" href=${BACKUP_URL} download>${t('backupDownload')}</a></p>
          ${i.restorePending
            ? html`<p class="notice">${t('restorePending')}</p>
                <button class="secondary" @click=${() => void cancelRestore().then(() => this.load())}>${t('restoreCancel')}</button>`
            : nothing}
          <form class="inline" @submit=${(e: Event) => void this.restore(e)}>
            <div class="field">
              <label for="backupfile">${t('restoreUpload')}</label>
              <input id="backupfile" type="file" accept=".gz,.tar.gz,application/gzip" required aria-invalid=${this.errors.backupfile ? 'true' : 'false'} />
              ${this.errors.backupfile ? html`<span class="error" role="alert">${this.errors.backupfile}</span>` : nothing}
            </div>
            <button type="submit" ?disabled=${this.progress !== null}>${t('upload')}</button>
          </form>
          ${this.progress !== null
            ? html`<label for="restore-progress">${t('uploading', { percent: Math.round(this.progress * 100) })}</label>
                <progress id="restore-progress" max="100" value=${Math.round(this.progress * 100)}></progress>`
            : nothing}
          ${formError(this.errors)}
        </section>
        ${this.renderBoard()} ${this.renderFirmware()}
      </div>
      <section class="card" aria-labelledby="audit-h">
        <h2 id="audit-h">${t('auditTitle')}</h2>
        <table>
          <thead>
            <tr><th scope="col">${t('when')}</th><th scope="col">${t('who')}</th><th scope="col">${t('what')}</th><th scope="col">${t('address')}</th></tr>
          </thead>
          <tbody>
            ${this.audit.map((a) => html`<tr><td>${formatDateTime(a.at)}</td><td>${a.username ?? '—'}</td><td>${a.action}${a.target ? ` (${a.target})` : ''}</td><td>${a.source}</td></tr>`)}
          </tbody>
        </table>
      </section>
      <section class="card" aria-labelledby="logs-h">
        <h2 id="logs-h">${t('logsTitle')} <button class="secondary" @click=${() => void this.load()}>${t('refresh')}</button></h2>
        <pre tabindex="0" style="max-height:24rem;overflow:auto;font-size:0.8rem;background:#f4f6f8;padding:0.5rem" aria-label=${t('logsTitle')}>${this.logs.join('\n')}</pre>
      </section>`;
  }
}

customElements.define('page-system', PageSystem);
