// Call history (paged, with recordings to play with seek or download) and voicemail; new calls appear as they end.
import { html, nothing, type TemplateResult } from 'lit';
import { PageElement } from '../components/page.js';
import { listCalls, listVoicemails, markHeard, type CallRecord, type Voicemail } from '../data/calls.js';
import { ApiError } from '../data/api.js';
import { callBack } from '../data/inbox.js';
import { live } from '../data/live.js';
import { hasRight } from '../data/session.js';
import { formatDateTime, formatDuration, t } from '../i18n.js';

export class PageCalls extends PageElement {
  static override properties = { ...PageElement.properties, calls: { state: true }, next: { state: true }, voicemails: { state: true }, notice: { state: true } };
  /** What the last "call back" did, or why it failed. */
  declare notice: { text: string; error: boolean } | null;
  declare calls: CallRecord[] | undefined;
  declare next: string | null;
  declare voicemails: Voicemail[] | undefined;
  private off: (() => void) | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    this.notice = null;
    void this.load();
    this.off = live.subscribe((_s, e) => {
      if (e && (e.type === 'call.ended' || e.type === 'voicemail.new')) void this.load();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }

  private async load(): Promise<void> {
    if (hasRight(this.user, 'history')) {
      const r = await listCalls({ limit: 50 });
      this.calls = r.calls;
      this.next = r.next ? (new URL(r.next, location.origin).searchParams.get('before') ?? null) : null;
    } else this.calls = [];
    this.voicemails = await listVoicemails().catch(() => []);
    await this.updateComplete;
    this.openVoicemail();
  }

  /** /calls?voicemail=ID (a notification's click): that message's player takes the focus and plays. */
  private openVoicemail(): void {
    const id = new URLSearchParams(location.search).get('voicemail');
    if (!id) return;
    const audio = this.renderRoot.querySelector<HTMLAudioElement>(`tr[data-voicemail="${CSS.escape(id)}"] audio`);
    if (!audio) return;
    history.replaceState(null, '', '/calls');
    audio.scrollIntoView({ block: 'center' });
    audio.focus();
    void audio.play().catch(() => undefined);
  }

  private async more(): Promise<void> {
    if (!this.next) return;
    const r = await listCalls({ limit: 50, before: this.next });
    this.calls = [...(this.calls ?? []), ...r.calls];
    this.next = r.next ? (new URL(r.next, location.origin).searchParams.get('before') ?? null) : null;
  }

  /** A callback to the call's outside party, linked to its LostCall event when nobody answered. */
  private async callBack(c: CallRecord): Promise<void> {
    const number = c.direction === 'outbound' ? c.callee : c.caller;
    try {
      await callBack(number, c.id, c.answeredAt ? 'CallBack' : 'LostCall');
      this.notice = { text: t('callbackCreated', { number }), error: false };
    } catch (err) {
      this.notice = { text: err instanceof ApiError ? err.message : String(err), error: true };
    }
  }

  private history(): TemplateResult | typeof nothing {
    if (!hasRight(this.user, 'history')) return nothing;
    const calls = this.calls ?? [];
    const callbacks = hasRight(this.user, 'callbacks');
    return html`<section class="card" aria-labelledby="hist-h">
      <h2 id="hist-h">${t('callsTitle')}</h2>
      ${this.notice ? html`<p class=${this.notice.error ? 'error' : 'success'} role=${this.notice.error ? 'alert' : 'status'}>${this.notice.text}</p>` : nothing}
      ${calls.length === 0
        ? html`<p class="empty">${t('noHistory')}</p>`
        : html`<table>
            <thead>
              <tr>
                <th scope="col">${t('started')}</th><th scope="col">${t('from')}</th><th scope="col">${t('to')}</th><th scope="col">${t('status')}</th><th scope="col">${t('duration')}</th><th scope="col">${t('recording')}</th>${callbacks ? html`<th scope="col">${t('actions')}</th>` : nothing}
              </tr>
            </thead>
            <tbody>
              ${calls.map(
                (c) => html`<tr data-call=${c.id}>
                  <td>${formatDateTime(c.startedAt)}</td>
                  <td>${c.caller}</td>
                  <td>${c.callee}</td>
                  <td>${c.status}${c.cause ? html` <span class="muted">(${c.cause})</span>` : nothing}</td>
                  <td>${c.answeredAt && c.endedAt ? formatDuration(c.endedAt - c.answeredAt) : '—'}</td>
                  <td>
                    ${c.recording && c.endedAt
                      ? html`<audio controls preload="none" src=${c.recording} aria-label=${t('playRecording', { from: c.caller, to: c.callee })}></audio>
                          <a href=${c.recording} download>${t('download')}</a>`
                      : '—'}
                  </td>
                  ${callbacks
                    ? html`<td>
                        ${/[0-9]{2}/.test(c.direction === 'outbound' ? c.callee : c.caller)
                          ? html`<button class="secondary" aria-label="${t('callBack')} ${c.direction === 'outbound' ? c.callee : c.caller}" @click=${() => void this.callBack(c)}>${t('callBack')}</button>`
                          : nothing}
                      </td>`
                    : nothing}
                </tr>`,
              )}
            </tbody>
          </table>`}
      ${this.next ? html`<button class="secondary" @click=${() => void this.more()}>${t('more')}</button>` : nothing}
    </section>`;
  }

  private voicemail(): TemplateResult {
    const vms = this.voicemails ?? [];
    return html`<section class="card" aria-labelledby="vm-h">
      <h2 id="vm-h">${t('voicemailTitle')}</h2>
      ${vms.length === 0
        ? html`<p class="empty">${t('noVoicemail')}</p>`
        : html`<table>
            <thead>
              <tr><th scope="col">${t('when')}</th><th scope="col">${t('caller')}</th><th scope="col">${t('mailbox')}</th><th scope="col">${t('duration')}</th><th scope="col">${t('listen')}</th><th scope="col">${t('actions')}</th></tr>
            </thead>
            <tbody>
              ${vms.map(
                (v) => html`<tr data-voicemail=${v.id}>
                  <td>${formatDateTime(v.createdAt)} ${v.heard ? nothing : html`<span class="badge warn">${t('newMessage')}</span>`}</td>
                  <td>${v.caller}</td>
                  <td>${v.extension ?? v.number ?? '—'}</td>
                  <td>${formatDuration(v.durationMs)}</td>
                  <td>
                    <audio controls preload="none" src=${v.audio} aria-label="${t('voicemail')} ${v.caller}" @play=${() => (v.heard ? undefined : void markHeard(v.id, true).then(() => this.load()))}></audio>
                    <a href=${v.audio} download>${t('download')}</a>
                  </td>
                  <td>${v.heard ? nothing : html`<button class="secondary" @click=${() => void markHeard(v.id, true).then(() => this.load())}>${t('markHeard')}</button>`}</td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    </section>`;
  }

  override render(): TemplateResult {
    if (!this.calls) return html`<p>${t('loading')}</p>`;
    return html`<h1>${t('navCalls')}</h1>
      ${this.history()} ${this.voicemail()}`;
  }
}

customElements.define('page-calls', PageCalls);
