// The wallboard: with ?token= a full-screen queue board for a TV (no login, live); for an administrator, its links.
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { PageElement } from '../components/page.js';
import { pageStyles } from '../components/styles.js';
import { field, fieldErrors, formError, formValues } from '../components/form-field.js';
import { createWallboardToken, followWallboard, listWallboardTokens, revokeWallboardToken, type WallboardQueue, type WallboardState, type WallboardToken } from '../data/wallboard.js';
import { formatDateTime, formatDuration, t } from '../i18n.js';

/** The TV's board: one panel per queue, big figures, agents' states; durations move every second. */
export class WallboardBoard extends LitElement {
  static override properties = { token: { attribute: false }, lang: { attribute: false }, state: { state: true }, problem: { state: true }, now: { state: true } };
  declare token: string;
  declare lang: string;
  declare state: WallboardState | null;
  declare problem: string | undefined;
  declare now: number;
  private stop: (() => void) | undefined;
  private tick: ReturnType<typeof setInterval> | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    this.state = null;
    this.now = Date.now();
    this.stop = followWallboard(this.token, (s, problem) => {
      if (s) this.state = s;
      this.problem = problem;
    });
    this.tick = setInterval(() => (this.now = Date.now()), 1000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stop?.();
    clearInterval(this.tick);
  }

  private queue(q: WallboardQueue): TemplateResult {
    const longest = q.oldestWaitingSince !== null ? this.now - q.oldestWaitingSince : q.longestWaitSeconds * 1000;
    const figure = (label: string, value: string, cls = ''): TemplateResult => html`<div class="figure ${cls}"><span class="label">${label}</span><span class="value">${value}</span></div>`;
    return html`<section class="queue" aria-labelledby="wbq-${q.id}" data-queue=${q.name}>
      <h2 id="wbq-${q.id}">${q.name} ${q.availability !== 'open' ? html`<span class="closed">${q.availability}</span>` : nothing}</h2>
      <div class="figures">
        ${figure(t('wbWaiting'), String(q.waiting), q.waiting > 0 ? 'warn' : '')} ${figure(t('wbLongest'), q.waiting > 0 ? formatDuration(longest) : '—', longest > 60_000 && q.waiting > 0 ? 'bad' : '')}
        ${figure(t('wbAnswered'), String(q.answered))} ${figure(t('wbAbandoned'), String(q.abandoned), q.abandoned > 0 ? 'warn' : '')}
        ${figure(t('wbServiceLevel', { seconds: q.serviceLevelSeconds }), q.serviceLevel === null ? '—' : `${Math.round(q.serviceLevel * 100)} %`)}
      </div>
      <h3>${t('wbAgents')}</h3>
      <ul class="agents">
        ${q.agents.map(
          (a) => html`<li class=${!a.loggedIn ? 'out' : a.paused ? 'paused' : a.state === 'available' ? 'free' : 'busy'}>
            <span class="name">${a.name}</span> <span class="state">${!a.loggedIn ? t('wbLoggedOut') : a.paused ? t('wbPaused') : a.state}</span>
          </li>`,
        )}
      </ul>
    </section>`;
  }

  override render(): TemplateResult {
    const s = this.state;
    return html`<main class="board">
      <h1>${t('wallboardTitle')}${s ? html` <span class="at">${formatDateTime(this.now)}</span>` : nothing}</h1>
      ${this.problem === 'revoked' ? html`<p class="problem" role="alert">${t('wbRevoked')}</p>` : this.problem === 'offline' ? html`<p class="problem" role="status">${t('wbOffline')}</p>` : nothing}
      ${!s ? (this.problem ? nothing : html`<p>${t('loading')}</p>`) : s.queues.length === 0 ? html`<p>${t('wbNoQueue')}</p>` : html`<div class="queues">${s.queues.map((q) => this.queue(q))}</div>`}
    </main>`;
  }

  static override styles = css`
    :host {
      display: block;
      min-height: 100vh;
      background: #0f1b2d;
      color: #f3f6fa;
    }
    .board {
      padding: 1.5vw 2vw;
    }
    h1 {
      font-size: clamp(1.4rem, 2.6vw, 3rem);
      margin: 0 0 1vw;
      display: flex;
      justify-content: space-between;
      align-items: baseline;
      flex-wrap: wrap;
    }
    .at {
      font-size: 0.6em;
      font-weight: 400;
      color: #c9d4e3;
    }
    .queues {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(min(100%, 28rem), 1fr));
      gap: 1.5vw;
    }
    .queue {
      background: #17263d;
      border-radius: 12px;
      padding: 1rem 1.25rem;
    }
    h2 {
      font-size: clamp(1.2rem, 2vw, 2.4rem);
      margin: 0 0 0.75rem;
    }
    h3 {
      font-size: 1rem;
      margin: 1rem 0 0.5rem;
      color: #c9d4e3;
    }
    .closed {
      font-size: 0.6em;
      background: #ffd7d7;
      color: #6d0000;
      border-radius: 999px;
      padding: 0.1rem 0.6rem;
      vertical-align: middle;
    }
    .figures {
      display: grid;
      grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr));
      gap: 0.75rem;
    }
    .figure {
      display: flex;
      flex-direction: column;
      background: #0f1b2d;
      border-radius: 8px;
      padding: 0.5rem 0.75rem;
    }
    .label {
      font-size: 0.95rem;
      color: #c9d4e3;
    }
    .value {
      font-size: clamp(1.8rem, 3.2vw, 4rem);
      font-weight: 700;
      font-variant-numeric: tabular-nums;
    }
    .figure.warn .value {
      color: #ffd166;
    }
    .figure.bad .value {
      color: #ff9b9b;
    }
    .agents {
      list-style: none;
      padding: 0;
      margin: 0;
      display: flex;
      flex-wrap: wrap;
      gap: 0.5rem;
    }
    .agents li {
      border-radius: 6px;
      padding: 0.35rem 0.7rem;
      background: #24364f;
      border-left: 6px solid #8aa0bb;
    }
    .agents li.free {
      border-left-color: #5fd38d;
    }
    .agents li.busy {
      border-left-color: #ffd166;
    }
    .agents li.paused {
      border-left-color: #c8a2ff;
    }
    .agents li.out {
      opacity: 0.85;
    }
    .state {
      color: #c9d4e3;
      font-size: 0.9em;
    }
    .problem {
      background: #5c1a1a;
      color: #fff;
      padding: 0.75rem 1rem;
      border-radius: 8px;
      font-size: 1.2rem;
    }
  `;
}
customElements.define('wallboard-board', WallboardBoard);

/** The console's Wallboard page (administrators): the links for TVs — make one (shown once), revoke one. */
export class PageWallboard extends PageElement {
  static override properties = { ...PageElement.properties, tokens: { state: true }, made: { state: true }, errors: { state: true } };
  static override styles = [pageStyles];
  declare tokens: WallboardToken[] | undefined;
  declare made: string;
  declare errors: Record<string, string>;

  constructor() {
    super();
    this.made = '';
    this.errors = {};
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    this.tokens = await listWallboardTokens();
  }

  private async add(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    this.errors = {};
    try {
      const r = await createWallboardToken(formValues(form)['wb-name'] ?? '');
      form.reset();
      this.made = `${location.origin}${r.url}`;
      await this.load();
    } catch (err) {
      this.errors = fieldErrors(err, { name: 'wb-name' });
    }
  }

  override render(): TemplateResult {
    const tokens = this.tokens;
    if (!tokens) return html`<p>${t('loading')}</p>`;
    return html`<h1>${t('wallboardTitle')}</h1>
      <section class="card" aria-labelledby="wbt-h">
        <h2 id="wbt-h">${t('wbTokens')}</h2>
        <p>${t('wbHelp')}</p>
        ${this.made ? html`<p class="success" role="status">${t('wbTokenMade', { url: this.made })} <a href=${this.made} target="_blank" rel="noopener">${t('wallboardTitle')}</a></p>` : nothing}
        ${tokens.length === 0
          ? html`<p class="empty">${t('wbNoTokens')}</p>`
          : html`<table>
              <thead><tr><th scope="col">${t('name')}</th><th scope="col">${t('when')}</th><th scope="col">${t('lastUsed')}</th><th scope="col">${t('actions')}</th></tr></thead>
              <tbody>
                ${tokens.map(
                  (tk) => html`<tr data-wallboard-token=${tk.name}>
                    <td>${tk.name}</td>
                    <td>${formatDateTime(tk.createdAt)}${tk.createdBy ? ` · ${tk.createdBy}` : ''}</td>
                    <td>${formatDateTime(tk.lastUsedAt)}</td>
                    <td><button class="danger" aria-label="${t('revoke')} ${tk.name}" @click=${() => void revokeWallboardToken(tk.id).then(() => this.load())}>${t('revoke')}</button></td>
                  </tr>`,
                )}
              </tbody>
            </table>`}
        <form class="inline" aria-labelledby="wbt-h" @submit=${(e: Event) => void this.add(e)} novalidate>
          ${field({ id: 'wb-name', label: t('wbTokenName'), required: true, error: this.errors['wb-name'] })}
          <button type="submit">${t('create')}</button>
          ${formError(this.errors)}
        </form>
      </section>`;
  }
}
customElements.define('page-wallboard', PageWallboard);
