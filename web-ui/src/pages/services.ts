// Services & categories: what smart answering offers callers (a category, then a service; keys 1-9 in list
// order), each name in French, English and Spanish, spoken to the caller in their language.
import { html, nothing, type TemplateResult } from 'lit';
import { PageElement } from '../components/page.js';
import { configStyles } from '../components/config-styles.js';
import { pageStyles } from '../components/styles.js';
import { moveItem, placeError, textField } from '../components/pickers.js';
import { live } from '../data/live.js';
import { LANGUAGES, listServices, saveServices, type Language, type LocalisedName, type ServiceCategory } from '../data/scenarios.js';
import { t } from '../i18n.js';

type Names = Record<Language, string>;
interface CategoryDraft {
  name: Names;
  services: Names[];
}

const MAX = 9;

/** A name as three inputs: text → the same in each; per language → each its own. */
function namesOf(n: LocalisedName): Names {
  if (typeof n === 'string') return { fr: n, en: n, es: n };
  return { fr: n.fr ?? '', en: n.en ?? '', es: n.es ?? '' };
}

/** Back to the site file's form: one text when every language says the same, else the languages given. */
function nameOf(n: Names): LocalisedName {
  const given = LANGUAGES.filter((l) => n[l].trim() !== '');
  if (given.length === 3 && n.fr.trim() === n.en.trim() && n.en.trim() === n.es.trim()) return n.fr.trim();
  const out: Partial<Names> = {};
  for (const l of given) out[l] = n[l].trim();
  return out;
}

const empty = (): Names => ({ fr: '', en: '', es: '' });

export class PageServices extends PageElement {
  static override styles = [pageStyles, configStyles];
  static override properties = { ...PageElement.properties, categories: { state: true }, errors: { state: true }, notice: { state: true }, stale: { state: true } };
  declare categories: CategoryDraft[] | undefined;
  declare errors: Record<string, string>;
  declare notice: string;
  declare stale: boolean;
  private saved = '';
  private off: (() => void) | undefined;

  constructor() {
    super();
    this.errors = {};
    this.notice = '';
    this.stale = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    this.off = live.subscribe((_s, e) => {
      if (!e || e.type !== 'config.changed' || e.data.resource !== 'services') return;
      if (this.categories && JSON.stringify(this.categories) !== this.saved) this.stale = true;
      else void this.load();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }

  private async load(): Promise<void> {
    this.set(await listServices());
  }

  private set(list: ServiceCategory[]): void {
    const drafts = list.map((c) => ({ name: namesOf(c.name), services: c.services.map((s) => namesOf(s.name)) }));
    this.saved = JSON.stringify(drafts);
    this.stale = false;
    this.categories = drafts;
  }

  private async save(e: Event): Promise<void> {
    e.preventDefault();
    this.errors = {};
    this.notice = '';
    try {
      this.set(await saveServices(this.categories!.map((c) => ({ name: nameOf(c.name), services: c.services.map((s) => ({ name: nameOf(s) })) }))));
      this.notice = t('servicesSaved');
    } catch (err) {
      const p = placeError(err);
      // `categories[1].services[0].name` → shown on that service; `categories[1].name` on the category.
      const m = /^categories\[(\d+)\](?:\.services\[(\d+)\])?/.exec(p.field);
      this.errors = { [m ? (m[2] !== undefined ? `c${m[1]}-s${m[2]}` : `c${m[1]}`) : '_form']: p.message };
    }
  }

  private names(id: string, label: string, n: Names, error: string | undefined): TemplateResult {
    return html`<div class="fields">
      ${LANGUAGES.map((l) => textField({ id: `${id}-${l}`, label: `${label} (${l.toUpperCase()})`, value: n[l], onChange: (v) => ((n[l] = v), this.requestUpdate()) }))}
      ${error ? html`<span class="error" role="alert">${error}</span>` : nothing}
    </div>`;
  }

  private category(c: CategoryDraft, i: number, list: CategoryDraft[]): TemplateResult {
    const no = i + 1;
    return html`<section class="card" data-category=${i} aria-labelledby="cat-${i}-h">
      <h2 id="cat-${i}-h">${t('categoryKey', { key: no })} ${c.name.en || c.name.fr || c.name.es}</h2>
      ${this.names(`c${i}`, t('categoryName', { n: no }), c.name, this.errors[`c${i}`])}
      <div class="toolbar">
        <button type="button" class="secondary small" aria-label=${t('moveCategoryUp', { n: no })} ?disabled=${i === 0} @click=${() => (moveItem(list, i, i - 1), this.requestUpdate())}>↑</button>
        <button type="button" class="secondary small" aria-label=${t('moveCategoryDown', { n: no })} ?disabled=${i === list.length - 1} @click=${() => (moveItem(list, i, i + 1), this.requestUpdate())}>↓</button>
        <button type="button" class="danger small" @click=${() => (list.splice(i, 1), this.requestUpdate())}>${t('removeCategory', { n: no })}</button>
      </div>
      <h3>${t('servicesOf', { n: no })}</h3>
      ${c.services.map(
        (s, j) => html`<div class="option" data-service=${j}>
          <span class="step-no">${t('serviceKey', { key: j + 1 })}</span>
          ${this.names(`c${i}-s${j}`, t('serviceName', { c: no, n: j + 1 }), s, this.errors[`c${i}-s${j}`])}
          <button type="button" class="secondary small" aria-label=${t('moveServiceUp', { c: no, n: j + 1 })} ?disabled=${j === 0} @click=${() => (moveItem(c.services, j, j - 1), this.requestUpdate())}>↑</button>
          <button type="button" class="secondary small" aria-label=${t('moveServiceDown', { c: no, n: j + 1 })} ?disabled=${j === c.services.length - 1} @click=${() => (moveItem(c.services, j, j + 1), this.requestUpdate())}>↓</button>
          <button type="button" class="danger small" aria-label=${t('removeService', { c: no, n: j + 1 })} ?disabled=${c.services.length === 1} @click=${() => (c.services.splice(j, 1), this.requestUpdate())}>✕</button>
        </div>`,
      )}
      <button type="button" class="secondary small" ?disabled=${c.services.length >= MAX} @click=${() => (c.services.push(empty()), this.requestUpdate())}>${t('addService', { n: no })}</button>
    </section>`;
  }

  override render(): TemplateResult {
    const list = this.categories;
    if (!list) return html`<p>${t('loading')}</p>`;
    return html`<h1>${t('navServices')}</h1>
      <p class="hint">${t('servicesHint')}</p>
      ${this.stale
        ? html`<p class="stale" role="status">${t('changedElsewhere')} <button type="button" class="secondary small" @click=${() => void this.load()}>${t('reload')}</button></p>`
        : nothing}
      <form aria-label=${t('navServices')} @submit=${(e: Event) => void this.save(e)}>
        ${list.length === 0 ? html`<p class="empty">${t('noServices')}</p>` : list.map((c, i) => this.category(c, i, list))}
        <div class="toolbar">
          <button type="button" class="secondary" ?disabled=${list.length >= MAX} @click=${() => (list.push({ name: empty(), services: [empty()] }), this.requestUpdate())}>${t('addCategory')}</button>
          <button type="submit">${t('save')}</button>
        </div>
        ${this.errors._form ? html`<p class="error" role="alert">${this.errors._form}</p>` : nothing}
        ${this.notice ? html`<p class="success" role="status">${this.notice}</p>` : nothing}
      </form>`;
  }
}

customElements.define('page-services', PageServices);
