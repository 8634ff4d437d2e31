// The office calendar of the scenarios page: the manual day / night / holiday override (also *60-*63 on a phone),
// the country whose public holidays count, and the site's own days off.
import { LitElement, html, nothing, type TemplateResult } from 'lit';
import { pageStyles } from './styles.js';
import { configStyles } from './config-styles.js';
import { placeError, textField } from './pickers.js';
import { live } from '../data/live.js';
import { HOLIDAY_COUNTRIES, OVERRIDE_MODES, getHolidays, getOverride, setHolidays, setOverride, type HolidayDate, type Holidays, type Override } from '../data/scenarios.js';
import { formatDateTime, t, type MessageKey } from '../i18n.js';

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

export class CalendarCard extends LitElement {
  static override styles = [pageStyles, configStyles];
  static override properties = {
    lang: { attribute: false },
    override: { state: true },
    holidays: { state: true },
    errors: { state: true },
    notice: { state: true },
  };
  declare lang: string;
  declare override: Override | undefined;
  declare holidays: Holidays | undefined;
  declare errors: Record<string, string>;
  declare notice: string;
  private country = '';
  private dates: HolidayDate[] = [];
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
      if (e && e.type === 'config.changed' && ['override', 'holidays', 'settings'].includes(String(e.data.resource))) void this.load();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }

  private async load(): Promise<void> {
    const [o, h] = await Promise.all([getOverride(), getHolidays()]);
    this.override = o;
    this.country = h.country;
    this.dates = h.dates.map((d) => ({ ...d }));
    this.holidays = h;
  }

  private async pickOverride(mode: Override['mode']): Promise<void> {
    this.errors = {};
    try {
      this.override = await setOverride(mode);
    } catch (err) {
      this.errors = { mode: placeError(err).message };
    }
  }

  private async saveHolidays(e: Event): Promise<void> {
    e.preventDefault();
    this.errors = {};
    this.notice = '';
    try {
      this.holidays = await setHolidays({ country: this.country, dates: this.dates.map((d) => ({ date: d.date, ...(d.name ? { name: d.name } : {}) })) });
      this.dates = this.holidays.dates.map((d) => ({ ...d }));
      this.notice = t('saved');
    } catch (err) {
      const p = placeError(err);
      this.errors = { [p.field.startsWith('dates') ? p.field.replace(/\..*$/, '') : p.field === 'country' ? 'country' : '_form']: p.message };
    }
  }

  private overrideForm(o: Override): TemplateResult {
    return html`<fieldset>
      <legend>${t('overrideLegend')}</legend>
      <span class="hint">${t('overrideHint')}</span>
      ${OVERRIDE_MODES.map(
        (m) => html`<label class="radio" for="override-${m}"
          ><input type="radio" id="override-${m}" name="override" .checked=${o.mode === m} @change=${() => void this.pickOverride(m)} /> ${t(`override${cap(m)}` as MessageKey)}</label
        >`,
      )}
      ${o.since ? html`<span class="hint">${t('overrideSince', { since: formatDateTime(o.since), by: o.by ?? '—' })}</span>` : nothing}
      ${this.errors.mode ? html`<span class="error" role="alert">${this.errors.mode}</span>` : nothing}
    </fieldset>`;
  }

  private holidaysForm(h: Holidays): TemplateResult {
    return html`<form aria-label=${t('holidaysTitle')} @submit=${(e: Event) => void this.saveHolidays(e)}>
      <div class="fields">
        <div class="field">
          <label for="holiday-country">${t('holidayCountry')}</label>
          <select id="holiday-country" aria-invalid=${this.errors.country ? 'true' : 'false'} @change=${(e: Event) => (this.country = (e.target as HTMLSelectElement).value)}>
            ${HOLIDAY_COUNTRIES.map((c) => html`<option value=${c} ?selected=${c === this.country}>${c === 'none' ? t('none') : c}</option>`)}
          </select>
          ${this.errors.country ? html`<span class="error" role="alert">${this.errors.country}</span>` : nothing}
        </div>
      </div>
      <fieldset>
        <legend>${t('siteHolidays')}</legend>
        ${this.dates.length === 0 ? html`<p class="empty">${t('noSiteHolidays')}</p>` : nothing}
        ${this.dates.map(
          (d, i) => html`<div class="fields">
            ${textField({ id: `hd-${i}-date`, label: t('holidayDate', { n: i + 1 }), type: 'date', value: d.date, error: this.errors[`dates[${i}]`], onChange: (v) => (d.date = v) })}
            ${textField({ id: `hd-${i}-name`, label: t('holidayName', { n: i + 1 }), value: d.name, onChange: (v) => (d.name = v) })}
            <button type="button" class="danger small" aria-label=${t('removeHoliday', { n: i + 1 })} @click=${() => (this.dates.splice(i, 1), this.requestUpdate())}>✕</button>
          </div>`,
        )}
        <div><button type="button" class="secondary small" @click=${() => (this.dates.push({ date: '', name: '' }), this.requestUpdate())}>${t('addHoliday')}</button></div>
      </fieldset>
      <div class="toolbar"><button type="submit">${t('save')}</button></div>
      ${this.errors._form ? html`<p class="error" role="alert">${this.errors._form}</p>` : nothing}
      ${this.notice ? html`<p class="success" role="status">${this.notice}</p>` : nothing}
      <details>
        <summary>${t('holidaysOfYear', { year: h.year, n: h.holidays.length })}</summary>
        <ul>
          ${h.holidays.map((x) => html`<li>${x.date} — ${x.name}${x.source === 'site' ? html` <span class="badge">${t('siteHoliday')}</span>` : nothing}</li>`)}
        </ul>
      </details>
    </form>`;
  }

  override render(): TemplateResult {
    return html`<section class="card" aria-labelledby="cal-h">
      <h2 id="cal-h">${t('calendarTitle')}</h2>
      ${this.override ? this.overrideForm(this.override) : html`<p>${t('loading')}</p>`}
      <h3>${t('holidaysTitle')}</h3>
      ${this.holidays ? this.holidaysForm(this.holidays) : nothing}
    </section>`;
  }
}

customElements.define('calendar-card', CalendarCard);
