// Queues, live: availability, participants (log in/out, pause), waiting callers; refreshed on every call event.
import { html, nothing, type TemplateResult } from 'lit';
import { PageElement } from '../components/page.js';
import { fieldErrors, formError } from '../components/form-field.js';
import { live } from '../data/live.js';
import { listQueues, participantAction, setQueueClosed, type ParticipantAction, type QueueParticipant, type QueueState } from '../data/queues.js';
import { formatDuration, t } from '../i18n.js';

export class PageQueues extends PageElement {
  static override properties = { ...PageElement.properties, queues: { state: true }, errors: { state: true }, now: { state: true } };
  declare queues: QueueState[] | undefined;
  declare errors: Record<string, string>;
  declare now: number;
  private off: (() => void) | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.errors = {};
    this.now = Date.now();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    this.off = live.subscribe((_s, e) => {
      if (e && (e.type.startsWith('call.') || e.type.startsWith('queue.') || e.type.startsWith('agent.') || e.type.startsWith('registration.'))) void this.load();
    });
    // Waiting times move; the queue engine's own changes (timeouts, pauses) are read every few seconds.
    this.timer = setInterval(() => {
      this.now = Date.now();
      if (Math.round(this.now / 1000) % 5 === 0) void this.load();
    }, 1000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
    clearInterval(this.timer);
  }

  private async load(): Promise<void> {
    this.queues = await listQueues();
  }

  private async act(q: QueueState, action: ParticipantAction, p: QueueParticipant): Promise<void> {
    this.errors = {};
    try {
      await participantAction(q.id, action, p.user ?? undefined);
      await this.load();
    } catch (err) {
      this.errors = fieldErrors(err);
    }
  }

  private participant(q: QueueState, p: QueueParticipant): TemplateResult {
    const who = p.user ?? String(p.userId);
    return html`<tr>
      <td>${who}</td>
      <td><span class="badge ${!p.loggedIn ? '' : p.paused ? 'warn' : 'ok'}">${!p.loggedIn ? t('agentOut') : p.paused ? t('agentPaused') : p.state}</span></td>
      <td>
        ${p.loggedIn
          ? html`<button class="secondary" @click=${() => void this.act(q, p.paused ? 'unpause' : 'pause', p)} aria-label="${p.paused ? t('resume') : t('pause')} ${who}">${p.paused ? t('resume') : t('pause')}</button>
              <button class="secondary" @click=${() => void this.act(q, 'logout', p)} aria-label="${t('agentLogout')} ${who}">${t('agentLogout')}</button>`
          : html`<button class="secondary" @click=${() => void this.act(q, 'login', p)} aria-label="${t('agentLogin')} ${who}">${t('agentLogin')}</button>`}
      </td>
    </tr>`;
  }

  private queue(q: QueueState): TemplateResult {
    const closed = q.availability !== 'open';
    return html`<section class="card" aria-labelledby="q-${q.id}">
      <h2 id="q-${q.id}">${q.name}${q.shortNumber ? html` <span class="muted">(${q.shortNumber})</span>` : nothing}
        <span class="badge ${closed ? 'bad' : 'ok'}">${q.availability}</span></h2>
      <p>
        <button class="secondary" @click=${() => void setQueueClosed(q.id, !closed).then(() => this.load())}>${closed ? t('openQueue') : t('closeQueue')}</button>
        <span class="muted">${t('waitingCount', { n: q.waiting.length })} · ${t('connectedCount', { n: q.connected.length })}</span>
      </p>
      ${q.waiting.length
        ? html`<table>
            <caption class="visually-hidden">${t('waiting')}</caption>
            <thead><tr><th scope="col">#</th><th scope="col">${t('caller')}</th><th scope="col">${t('waiting')}</th></tr></thead>
            <tbody>${q.waiting.map((w) => html`<tr><td>${w.position}</td><td>${w.caller}</td><td>${formatDuration(this.now - Date.parse(w.since))}</td></tr>`)}</tbody>
          </table>`
        : nothing}
      ${q.participants.length === 0
        ? html`<p class="empty">${t('noParticipants')}</p>`
        : html`<table>
            <thead><tr><th scope="col">${t('participant')}</th><th scope="col">${t('state')}</th><th scope="col">${t('actions')}</th></tr></thead>
            <tbody>${q.participants.map((p) => this.participant(q, p))}</tbody>
          </table>`}
    </section>`;
  }

  override render(): TemplateResult {
    if (!this.queues) return html`<p>${t('loading')}</p>`;
    return html`<h1>${t('navQueues')}</h1>
      ${formError(this.errors)} ${this.queues.length === 0 ? html`<section class="card"><p class="empty">${t('noQueues')}</p></section>` : this.queues.map((q) => this.queue(q))}`;
  }
}

customElements.define('page-queues', PageQueues);
