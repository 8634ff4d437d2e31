// The call inbox: inbound calls filtered by status, number and date; new/job/spam/closed/deleted; a job from a call;
// blocking the caller (a separate, confirmed action); the caller's message to play; the path the call took; call back.
import { css, html, nothing, type TemplateResult } from 'lit';
import { PageElement } from '../components/page.js';
import { pageStyles } from '../components/styles.js';
import { ApiError } from '../data/api.js';
import { listVoicemails, type Voicemail } from '../data/calls.js';
import { INBOX_STATUSES, blockCaller, callBack, callPath, createJob, listInbox, setInboxStatus, type InboxCall, type InboxStatus, type PathStep } from '../data/inbox.js';
import { live } from '../data/live.js';
import { hasRight } from '../data/session.js';
import { formatDateTime, t, type MessageKey } from '../i18n.js';

const STATUS_KEY: Record<InboxStatus, MessageKey> = { new: 'inboxNew', job: 'inboxJob', spam: 'inboxSpam', closed: 'inboxClosed', deleted: 'inboxDeleted' };
const DAY = 86_400_000;

/** One step of a call's path in words: "ring_users (users: anne) → no-answer". */
export function pathStepText(s: PathStep): string {
  const fields = Object.entries(s)
    .filter(([k, v]) => !['type', 'skipped', 'reason', 'result'].includes(k) && v !== null && typeof v !== 'object')
    .map(([k, v]) => `${k}: ${String(v)}`);
  const head = `${s.type}${fields.length ? ` (${fields.join(', ')})` : ''}`;
  if (s.skipped) return `${head} — ${t('pathSkipped')}${s.reason ? `: ${s.reason}` : ''}`;
  return s.result ? `${head} → ${s.result}` : head;
}

export class PageInbox extends PageElement {
  static override properties = {
    ...PageElement.properties,
    calls: { state: true },
    status: { state: true },
    number: { state: true },
    date: { state: true },
    voicemails: { state: true },
    open: { state: true },
    confirming: { state: true },
    message: { state: true },
    errors: { state: true },
  };
  declare calls: InboxCall[] | undefined;
  declare status: InboxStatus | '';
  declare number: string;
  declare date: string;
  declare voicemails: Map<string, Voicemail>;
  /** The call whose details (path, recording) are shown, with what was loaded. */
  declare open: { id: string; path: PathStep[] | null; recording: string | null } | null;
  /** The call whose caller is about to be blocked (the confirmation is shown). */
  declare confirming: string | null;
  declare message: string;
  /** Errors by call id (shown in that call's row). */
  declare errors: Record<string, string>;
  private off: (() => void) | undefined;

  static override styles = [
    pageStyles,
    css`
      .filters {
        display: flex;
        flex-wrap: wrap;
        gap: 0.75rem;
        align-items: flex-end;
        margin-bottom: 1rem;
      }
      .scroll {
        overflow-x: auto;
      }
      .confirm {
        background: #fff6d6;
        border: 1px solid #c99a00;
        border-radius: 4px;
        padding: 0.5rem 0.75rem;
      }
      ol.path {
        margin: 0.25rem 0 0.5rem 1.25rem;
        padding: 0;
      }
      td select {
        min-width: 7rem;
      }
    `,
  ];

  constructor() {
    super();
    this.status = '';
    this.number = '';
    this.date = '';
    this.voicemails = new Map();
    this.open = null;
    this.confirming = null;
    this.message = '';
    this.errors = {};
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    this.off = live.subscribe((_s, e) => {
      if (e && (e.type === 'call.ended' || e.type === 'voicemail.new' || (e.type === 'config.changed' && ['blocklist', 'calls', 'jobs'].includes(String(e.data.resource))))) void this.load();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }

  private async load(): Promise<void> {
    const before = this.date ? Date.parse(`${this.date}T00:00:00`) + DAY : undefined;
    const [calls, vms] = await Promise.all([listInbox({ status: this.status, ...(before !== undefined && Number.isFinite(before) ? { before } : {}) }), listVoicemails().catch(() => [] as Voicemail[])]);
    this.calls = calls;
    this.voicemails = new Map(vms.filter((v) => v.callId).map((v) => [v.callId!, v]));
    // Details opened while the call was still finishing: its path and recording are stored when it ends, so look
    // again now (this runs on every call.ended) rather than keep saying there is none.
    const open = this.open;
    if (open && (!open.path || !open.path.length) && hasRight(this.user, 'history')) {
      const detail = await callPath(open.id).catch(() => null);
      if (detail && this.open?.id === open.id) this.open = { id: open.id, ...detail };
    }
  }

  private shown(): InboxCall[] {
    const digits = this.number.replace(/[^0-9+]/g, '');
    const from = this.date ? Date.parse(`${this.date}T00:00:00`) : NaN;
    return (this.calls ?? []).filter(
      (c) => (!digits || c.caller.includes(digits) || c.callee.includes(digits)) && (!Number.isFinite(from) || (c.started_at >= from && c.started_at < from + DAY)),
    );
  }

  private async act(c: InboxCall, what: () => Promise<unknown>, done: string): Promise<void> {
    const { [c.id]: _, ...rest } = this.errors;
    this.errors = rest;
    this.message = '';
    try {
      await what();
      await this.load();
      this.message = done;
    } catch (err) {
      this.errors = { ...this.errors, [c.id]: err instanceof ApiError ? err.message : String(err) };
    }
  }

  private async toggle(c: InboxCall): Promise<void> {
    if (this.open?.id === c.id) {
      this.open = null;
      return;
    }
    const detail = hasRight(this.user, 'history') ? await callPath(c.id).catch(() => ({ path: null, recording: null })) : { path: null, recording: null };
    this.open = { id: c.id, ...detail };
  }

  private confirmBlock(c: InboxCall): TemplateResult {
    return html`<div class="confirm" role="alertdialog" aria-labelledby="confirm-${c.id}">
      <p id="confirm-${c.id}">${t('blockConfirm', { number: c.caller })}</p>
      <div class="row-actions">
        <button
          class="danger"
          @click=${() => {
            this.confirming = null;
            void this.act(c, () => blockCaller(c.id, true), t('callerBlocked', { number: c.caller }));
          }}
        >
          ${t('blockConfirmYes')}
        </button>
        <button class="secondary" @click=${() => (this.confirming = null)}>${t('cancel')}</button>
      </div>
    </div>`;
  }

  private details(c: InboxCall): TemplateResult | typeof nothing {
    if (this.open?.id !== c.id) return nothing;
    const o = this.open;
    return html`<tr class="details">
      <td colspan="6">
        <p><strong>${t('callPath')}</strong></p>
        ${o.path && o.path.length
          ? html`<ol class="path">
              ${o.path.map((s) => html`<li>${pathStepText(s)}</li>`)}
            </ol>`
          : html`<p class="empty">${t('noPath')}</p>`}
        ${o.recording
          ? html`<p>${t('recording')}: <audio controls preload="none" src=${o.recording} aria-label=${t('playRecording', { from: c.caller, to: c.callee })}></audio></p>`
          : nothing}
      </td>
    </tr>`;
  }

  private row(c: InboxCall): TemplateResult {
    const vm = this.voicemails.get(c.id);
    const canCallBack = hasRight(this.user, 'callbacks') && /[0-9]/.test(c.caller);
    return html`<tr data-inbox=${c.id}>
        <td>${formatDateTime(c.started_at)}</td>
        <td>${c.caller} ${c.blocked ? html`<span class="badge bad">${t('blocked')}</span>` : nothing}</td>
        <td>${c.callee}${c.service ? html` <span class="muted">(${c.service})</span>` : nothing}</td>
        <td>
          <label class="visually-hidden" for="st-${c.id}">${t('inboxStatusOf', { number: c.caller })}</label>
          <select
            id="st-${c.id}"
            @change=${(e: Event) => {
              const s = (e.target as HTMLSelectElement).value as InboxStatus;
              void this.act(c, () => setInboxStatus(c.id, s), t('inboxStatusSet', { number: c.caller, status: t(STATUS_KEY[s]) }));
            }}
          >
            ${INBOX_STATUSES.map((s) => html`<option value=${s} ?selected=${c.status === s}>${t(STATUS_KEY[s])}</option>`)}
          </select>
        </td>
        <td>
          ${vm
            ? html`<audio controls preload="none" src=${vm.audio} aria-label=${t('messageFrom', { number: c.caller })}></audio>`
            : html`<span class="muted">${t('noMessage')}</span>`}
        </td>
        <td>
          <div class="row-actions">
            <button class="secondary" aria-expanded=${this.open?.id === c.id ? 'true' : 'false'} aria-label="${t('details')} ${c.caller}" @click=${() => void this.toggle(c)}>${t('details')}</button>
            ${c.status !== 'job'
              ? html`<button class="secondary" aria-label="${t('makeJob')} ${c.caller}" @click=${() => void this.act(c, () => createJob({ call_id: c.id }), t('jobCreated', { number: c.caller }))}>${t('makeJob')}</button>`
              : nothing}
            ${canCallBack
              ? html`<button class="secondary" aria-label="${t('callBack')} ${c.caller}" @click=${() => void this.act(c, () => callBack(c.caller, c.id, c.answered_at ? 'CallBack' : 'LostCall'), t('callbackCreated', { number: c.caller }))}>${t('callBack')}</button>`
              : nothing}
            ${c.blocked
              ? html`<button class="secondary" aria-label="${t('unblock')} ${c.caller}" @click=${() => void this.act(c, () => blockCaller(c.id, false), t('callerUnblocked', { number: c.caller }))}>${t('unblock')}</button>`
              : /[0-9]/.test(c.caller)
                ? html`<button class="danger" aria-label="${t('blockCaller')} ${c.caller}" @click=${() => (this.confirming = c.id)}>${t('blockCaller')}</button>`
                : nothing}
          </div>
          ${this.confirming === c.id ? this.confirmBlock(c) : nothing}
          ${this.errors[c.id] ? html`<p class="error" role="alert">${this.errors[c.id]}</p>` : nothing}
        </td>
      </tr>
      ${this.details(c)}`;
  }

  override updated(changed: Map<string, unknown>): void {
    // The confirmation takes the focus when it opens (keyboard users land on it).
    if (changed.has('confirming') && this.confirming) this.renderRoot.querySelector<HTMLButtonElement>('.confirm button')?.focus();
  }

  override render(): TemplateResult {
    if (!this.calls) return html`<p>${t('loading')}</p>`;
    const calls = this.shown();
    return html`<h1>${t('navInbox')}</h1>
      <section class="card" aria-labelledby="inbox-filters">
        <h2 id="inbox-filters" class="visually-hidden">${t('filters')}</h2>
        <div class="filters">
          <div class="field">
            <label for="f-status">${t('status')}</label>
            <select
              id="f-status"
              @change=${(e: Event) => {
                this.status = (e.target as HTMLSelectElement).value as InboxStatus | '';
                void this.load();
              }}
            >
              <option value="" ?selected=${this.status === ''}>${t('inboxAll')}</option>
              ${INBOX_STATUSES.map((s) => html`<option value=${s} ?selected=${this.status === s}>${t(STATUS_KEY[s])}</option>`)}
            </select>
          </div>
          <div class="field">
            <label for="f-number">${t('number')}</label>
            <input id="f-number" type="search" inputmode="tel" .value=${this.number} @input=${(e: Event) => (this.number = (e.target as HTMLInputElement).value)} />
          </div>
          <div class="field">
            <label for="f-date">${t('date')}</label>
            <input
              id="f-date"
              type="date"
              .value=${this.date}
              @change=${(e: Event) => {
                this.date = (e.target as HTMLInputElement).value;
                void this.load();
              }}
            />
          </div>
        </div>
      </section>
      <p role="status" class=${this.message ? 'success' : 'visually-hidden'}>${this.message}</p>
      <section class="card" aria-labelledby="inbox-h">
        <h2 id="inbox-h">${t('inboxCalls')} <span class="badge">${calls.length}</span></h2>
        ${calls.length === 0
          ? html`<p class="empty">${t('inboxEmpty')}</p>`
          : html`<div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">${t('when')}</th>
                    <th scope="col">${t('caller')}</th>
                    <th scope="col">${t('numberCalled')}</th>
                    <th scope="col">${t('status')}</th>
                    <th scope="col">${t('message')}</th>
                    <th scope="col">${t('actions')}</th>
                  </tr>
                </thead>
                <tbody>
                  ${calls.map((c) => this.row(c))}
                </tbody>
              </table>
            </div>`}
      </section>`;
  }
}

customElements.define('page-inbox', PageInbox);
