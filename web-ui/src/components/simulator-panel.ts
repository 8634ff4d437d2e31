// The simulator panel: a pretend call (number, caller, time, keys pressed, who is online) run through the live
// interpreter by POST /api/simulate, its path shown step by step with what happened and why steps were skipped.
import { LitElement, html, nothing, type TemplateResult } from 'lit';
import { pageStyles } from './styles.js';
import { configStyles } from './config-styles.js';
import { checkbox, namePicker, placeError, textField, topField } from './pickers.js';
import { actionLabel } from './action-editor.js';
import { simulate, type Condition, type PathStep, type SimulateResult } from '../data/scenarios.js';
import { formatDateTime, t, type MessageKey } from '../i18n.js';

const STAGES: Record<string, MessageKey> = {
  forward: 'stepForward',
  unavailable: 'stepUnavailable',
  offline: 'stepOffline',
  welcome: 'stepWelcome',
  scenario: 'stepScenario',
  ring_users: 'stepRingUsers',
  end: 'stepEnd',
};

/** The condition of a skipped step, in words. */
export function conditionText(w: Condition): string {
  const parts: string[] = [];
  if (w.weekdays) parts.push(w.weekdays.join(' '));
  if (w.times) parts.push(w.times.join(', '));
  if (w.dates) parts.push(w.dates.join(', '));
  if (w.period) parts.push(`${w.period.from} → ${w.period.to}`);
  if (w.holiday !== undefined) parts.push(w.holiday ? t('holidayOnly') : t('holidayNot'));
  return parts.join(' · ');
}

function details(s: PathStep): string {
  const out: string[] = [];
  const str = (k: string): string | undefined => (typeof s[k] === 'string' || typeof s[k] === 'number' ? String(s[k]) : undefined);
  for (const k of ['scenario', 'queue', 'user', 'to', 'number', 'mailbox', 'language', 'sound', 'prompt', 'text', 'ring_mode']) {
    const v = str(k);
    if (v !== undefined && v !== '') out.push(`${k.replace('_', ' ')}: ${v}`);
  }
  if (Array.isArray(s.users)) out.push(`users: ${(s.users as string[]).join(', ')}`);
  if (s.action && typeof s.action === 'object') out.push(t(`off${String((s.action as { type: string }).type).replace(/^./, (c) => c.toUpperCase())}` as MessageKey));
  if (s.key !== undefined) out.push(t('stepKey', { key: s.key, option: s.option ?? '' }));
  if (s.digits !== undefined) out.push(t('stepDigits', { digits: s.digits || '—' }));
  return out.join(' · ');
}

export class ScenarioSimulator extends LitElement {
  static override styles = [pageStyles, configStyles];
  static override properties = {
    numbers: { attribute: false },
    users: { attribute: false },
    defaultNumber: { attribute: false },
    lang: { attribute: false },
    result: { state: true },
    errors: { state: true },
    running: { state: true },
  };
  declare numbers: { did: string; name: string }[] | undefined;
  declare users: string[] | undefined;
  declare defaultNumber: string | undefined;
  declare lang: string;
  declare result: SimulateResult | null;
  declare errors: Record<string, string>;
  declare running: boolean;
  private number: string | undefined;
  private from = '';
  private at = '';
  private digits = '';
  private onlineMode: 'now' | 'these' = 'now';
  private online: string[] = [];
  private noAnswer = false;

  constructor() {
    super();
    this.result = null;
    this.errors = {};
    this.running = false;
  }

  private async run(e: Event): Promise<void> {
    e.preventDefault();
    this.errors = {};
    this.running = true;
    try {
      const number = this.number ?? this.defaultNumber ?? '';
      this.result = await simulate({
        number,
        ...(this.from.trim() ? { from: this.from.trim() } : {}),
        ...(this.at ? { at: this.at } : {}),
        ...(this.digits.trim() ? { digits: this.digits.split(/[,;\s]+/).filter(Boolean) } : {}),
        ...(this.onlineMode === 'these' ? { online: this.online } : {}),
        ...(this.noAnswer ? { no_answer: true } : {}),
      });
    } catch (err) {
      const p = placeError(err);
      const f = topField(p.field);
      this.errors = { [['number', 'from', 'at', 'digits', 'online'].includes(f) ? f : '_form']: p.message };
      this.result = null;
    } finally {
      this.running = false;
    }
  }

  private step(s: PathStep, i: number): TemplateResult {
    const label = STAGES[s.type] ? t(STAGES[s.type]!) : actionLabel(s.type);
    const reason = s.reason === 'condition did not match' ? t('reasonCondition') : s.reason;
    const when = s.when as Condition | undefined;
    return html`<li class=${s.skipped ? 'skipped' : ''} data-step=${i} data-type=${s.type}>
      <strong>${label}</strong>
      ${details(s) ? html` <span>${details(s)}</span>` : nothing}
      ${s.skipped ? html` <span class="badge warn">${t('stepSkipped')}</span>` : nothing}
      ${s.result ? html` <span class="badge ${s.result === 'answered' || s.result === 'key' || s.result === 'collected' ? 'ok' : ''}">${s.result}</span>` : nothing}
      ${reason ? html`<div class="hint">${reason}${when && s.skipped ? ` (${conditionText(when)})` : ''}</div>` : nothing}
    </li>`;
  }

  private onlineField(): TemplateResult {
    return html`<fieldset>
      <legend>${t('simOnline')}</legend>
      <label class="radio" for="sim-online-now"
        ><input type="radio" id="sim-online-now" name="sim-online" .checked=${this.onlineMode === 'now'} @change=${() => ((this.onlineMode = 'now'), this.requestUpdate())} />
        ${t('simOnlineNow')}</label
      >
      <label class="radio" for="sim-online-these"
        ><input type="radio" id="sim-online-these" name="sim-online" .checked=${this.onlineMode === 'these'} @change=${() => ((this.onlineMode = 'these'), this.requestUpdate())} />
        ${t('simOnlineThese')}</label
      >
      ${this.onlineMode === 'these'
        ? this.users
          ? html`<div class="fields">
              ${this.users.map((u) =>
                checkbox(`sim-user-${u}`, u, this.online.includes(u), (v) => {
                  this.online = v ? [...this.online, u] : this.online.filter((x) => x !== u);
                  this.requestUpdate();
                }),
              )}
            </div>`
          : textField({ id: 'sim-online-list', label: t('simOnlineList'), value: this.online.join(', '), on: 'change', onChange: (v) => (this.online = v.split(/[,\s]+/).filter(Boolean)) })
        : nothing}
      ${this.errors.online ? html`<span class="error" role="alert">${this.errors.online}</span>` : nothing}
    </fieldset>`;
  }

  override render(): TemplateResult {
    const r = this.result;
    return html`<section class="card" aria-labelledby="sim-h">
      <h2 id="sim-h">${t('simTitle')}</h2>
      <p class="hint">${t('simHint')}</p>
      <form aria-label=${t('simTitle')} @submit=${(e: Event) => void this.run(e)}>
        <div class="fields">
          ${namePicker({
            id: 'sim-number',
            label: t('simNumber'),
            value: this.number ?? this.defaultNumber,
            choices: this.numbers?.map((n) => n.did),
            error: this.errors.number,
            onChange: (v) => (this.number = v),
          })}
          ${textField({ id: 'sim-from', label: t('simFrom'), type: 'tel', value: this.from, placeholder: '0612345678', error: this.errors.from, onChange: (v) => (this.from = v) })}
          ${textField({ id: 'sim-at', label: t('simAt'), type: 'datetime-local', value: this.at, error: this.errors.at, hint: t('simAtHint'), onChange: (v) => (this.at = v) })}
          ${textField({ id: 'sim-digits', label: t('simDigits'), value: this.digits, placeholder: '1, 0612345678', error: this.errors.digits, hint: t('simDigitsHint'), onChange: (v) => (this.digits = v) })}
        </div>
        ${this.onlineField()} ${checkbox('sim-no-answer', t('simNoAnswer'), this.noAnswer, (v) => (this.noAnswer = v))}
        <div class="toolbar"><button type="submit" ?disabled=${this.running}>${t('simRun')}</button></div>
        ${this.errors._form ? html`<p class="error" role="alert">${this.errors._form}</p>` : nothing}
      </form>
      ${r
        ? html`<div class="sim-result" role="region" aria-label=${t('simPath')} aria-live="polite">
            <h3>${t('simPath')}</h3>
            <p class="muted">${t('simSummary', { number: r.number, from: r.from, at: formatDateTime(Date.parse(r.at)), online: r.online.join(', ') || t('nobody') })}</p>
            <ol class="path">
              ${r.path.map((s, i) => this.step(s, i))}
            </ol>
            <p><strong>${t('simOutcome')}</strong> <span class="outcome">${r.outcome}</span></p>
            ${Object.keys(r.variables).length > 0
              ? html`<p class="muted">${Object.entries(r.variables)
                  .map(([k, v]) => `${k} = ${v}`)
                  .join(' · ')}</p>`
              : nothing}
          </div>`
        : nothing}
    </section>`;
  }
}

customElements.define('scenario-simulator', ScenarioSimulator);
