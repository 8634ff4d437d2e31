// Dashboard: calls in progress (live), phones registered, trunks, system health with small charts.
import { html, nothing, type TemplateResult } from 'lit';
import { PageElement } from '../components/page.js';
import { sparkline } from '../components/sparkline.js';
import { ApiError } from '../data/api.js';
import { callBack, voicedrop } from '../data/inbox.js';
import { live, type LiveCall, type LiveState } from '../data/live.js';
import { hasRight } from '../data/session.js';
import type { HealthSample } from '../data/system.js';
import { formatBytes, formatDuration, formatUptime, t } from '../i18n.js';

function party(p: LiveCall['caller']): string {
  return p.displayName && p.displayName !== p.number ? `${p.displayName} (${p.number})` : p.number;
}

export class PageDashboard extends PageElement {
  static override properties = { ...PageElement.properties, state: { state: true }, now: { state: true }, notice: { state: true } };
  declare state: LiveState | undefined;
  declare now: number;
  /** What the last call action did, or why it failed (shown above the calls). */
  declare notice: { text: string; error: boolean } | null;
  private off: (() => void) | undefined;
  private tick: ReturnType<typeof setInterval> | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    this.now = Date.now();
    this.notice = null;
    this.off = live.subscribe((s) => {
      this.state = s;
      this.requestUpdate();
    });
    // Durations move every second without any request.
    this.tick = setInterval(() => (this.now = Date.now()), 1000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
    clearInterval(this.tick);
  }

  /** The party outside the office: who a "call back" dials. */
  private outsideNumber(c: LiveCall): string {
    return c.direction === 'outbound' ? c.callee.number : c.caller.number;
  }

  private async callAction(what: () => Promise<unknown>, done: string): Promise<void> {
    try {
      await what();
      this.notice = { text: done, error: false };
    } catch (err) {
      this.notice = { text: err instanceof ApiError ? err.message : String(err), error: true };
    }
  }

  private actions(c: LiveCall): TemplateResult {
    const number = this.outsideNumber(c);
    return html`<div class="row-actions">
      ${c.direction === 'outbound' && c.state === 'answered'
        ? html`<button class="secondary" aria-label="${t('voicedrop')} ${party(c.callee)}" @click=${() => void this.callAction(() => voicedrop(c.id), t('voicedropDone', { number: c.callee.number }))}>${t('voicedrop')}</button>`
        : nothing}
      ${hasRight(this.user, 'callbacks') && /[0-9]{2}/.test(number)
        ? html`<button class="secondary" aria-label="${t('callBack')} ${number}" @click=${() => void this.callAction(() => callBack(number, c.id, 'CallBack'), t('callbackCreated', { number }))}>${t('callBack')}</button>`
        : nothing}
    </div>`;
  }

  private calls(s: LiveState): TemplateResult {
    const calls = [...s.calls.values()].sort((a, b) => a.startedAt - b.startedAt);
    return html`<section class="card" aria-labelledby="calls-h">
      <h2 id="calls-h">${t('callsInProgress')} <span class="badge">${calls.length}</span></h2>
      ${this.notice ? html`<p class=${this.notice.error ? 'error' : 'success'} role=${this.notice.error ? 'alert' : 'status'}>${this.notice.text}</p>` : nothing}
      ${calls.length === 0
        ? html`<p class="empty">${t('noCalls')}</p>`
        : html`<table>
            <thead>
              <tr><th scope="col">${t('from')}</th><th scope="col">${t('to')}</th><th scope="col">${t('state')}</th><th scope="col">${t('duration')}</th><th scope="col">${t('actions')}</th></tr>
            </thead>
            <tbody aria-live="polite">
              ${calls.map(
                (c) => html`<tr data-call=${c.id}>
                  <td>${party(c.caller)}</td>
                  <td>${party(c.callee)}</td>
                  <td><span class="badge ${c.state === 'answered' ? 'ok' : 'warn'}">${c.state === 'answered' ? t('stateAnswered') : c.state === 'voicemail' ? t('stateVoicemail') : t('stateRinging')}</span></td>
                  <td>${formatDuration(this.now - (c.answeredAt ?? c.startedAt))}</td>
                  <td>${this.actions(c)}</td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    </section>`;
  }

  private phones(s: LiveState): TemplateResult {
    const regs = [...s.registrations].sort((a, b) => a.extension.localeCompare(b.extension));
    return html`<section class="card" aria-labelledby="phones-h">
      <h2 id="phones-h">${t('phonesRegistered')} <span class="badge">${regs.length}</span></h2>
      ${regs.length === 0
        ? html`<p class="empty">${t('noPhones')}</p>`
        : html`<table>
            <thead>
              <tr><th scope="col">${t('extension')}</th><th scope="col">${t('address')}</th><th scope="col">${t('device')}</th></tr>
            </thead>
            <tbody>
              ${regs.map((r) => html`<tr><td>${r.extension}</td><td>${r.address}</td><td class="muted">${r.userAgent ?? '—'}</td></tr>`)}
            </tbody>
          </table>`}
    </section>`;
  }

  private health(samples: HealthSample[]): TemplateResult {
    const last = samples.at(-1);
    const row = (label: string, value: string, chart: TemplateResult | typeof nothing): TemplateResult => html`<tr>
      <th scope="row">${label}</th>
      <td>${value}${chart === nothing ? nothing : html`<div class="chart">${chart}</div>`}</td>
    </tr>`;
    const temps = samples.map((s) => s.temperature).filter((x): x is number => x !== null);
    return html`<section class="card" aria-labelledby="health-h">
      <h2 id="health-h">${t('systemHealth')}</h2>
      ${!last
        ? html`<p class="empty">${t('loading')}</p>`
        : html`<table>
            <tbody>
              ${row(t('cpu'), `${last.cpu.toFixed(0)} %`, sparkline(samples.map((s) => s.cpu), 100, t('cpu')))}
              ${row(t('memory'), `${formatBytes(last.memUsed)} / ${formatBytes(last.memTotal)}`, sparkline(samples.map((s) => s.memUsed), last.memTotal, t('memory')))}
              ${row(t('temperature'), last.temperature === null ? t('notAvailable') : `${last.temperature} °C`, temps.length ? sparkline(temps, 100, t('temperature')) : nothing)}
              ${row(t('disk'), last.diskTotal ? `${formatBytes(last.diskUsed)} / ${formatBytes(last.diskTotal)} (${Math.round((100 * last.diskUsed) / last.diskTotal)} %)` : t('notAvailable'), nothing)}
              ${row(t('uptime'), formatUptime(last.uptimeS), nothing)}
            </tbody>
          </table>`}
    </section>`;
  }

  private trunks(s: LiveState): TemplateResult | typeof nothing {
    if (!hasRight(this.user, 'trunks')) return nothing;
    return html`<section class="card" aria-labelledby="trunks-h">
      <h2 id="trunks-h">${t('trunksTitle')}</h2>
      ${s.trunks.length === 0
        ? html`<p class="empty">${t('noTrunks')}</p>`
        : html`<ul>
            ${s.trunks.map((tr) => html`<li>${tr.trunk}: <span class="badge ${tr.state === 'registered' || tr.state === 'ip' ? 'ok' : tr.state === 'disabled' ? '' : 'bad'}">${tr.state}</span></li>`)}
          </ul>`}
    </section>`;
  }

  override render(): TemplateResult {
    const s = this.state;
    if (!s) return html`<p>${t('loading')}</p>`;
    return html`<h1>${t('dashboardTitle')}</h1>
      ${this.calls(s)}
      <div class="grid">${this.phones(s)} ${this.health(s.system)} ${this.trunks(s)}</div>`;
  }
}

customElements.define('page-dashboard', PageDashboard);
