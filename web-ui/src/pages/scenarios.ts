// Scenarios: pick one, edit its ordered actions (conditions, menus, sounds), save a new version, restore an old
// one, try it in the simulator; the day/night/holiday override and the holidays live on this page too.
import { html, nothing, type TemplateResult } from 'lit';
import { PageElement } from '../components/page.js';
import { configStyles } from '../components/config-styles.js';
import { pageStyles } from '../components/styles.js';
import { ActionEditor, locateActionError, type ActionError } from '../components/action-editor.js';
import { placeError, textField } from '../components/pickers.js';
import '../components/simulator-panel.js';
import '../components/calendar-card.js';
import { loadChoices, type Choices } from '../data/choices.js';
import { live } from '../data/live.js';
import { createScenario, deleteScenario, listScenarios, listVersions, restoreVersion, saveScenario, type Scenario, type ScenarioAction, type ScenarioVersion } from '../data/scenarios.js';
import { formatDateTime, t } from '../i18n.js';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export class PageScenarios extends PageElement {
  static override styles = [pageStyles, configStyles];
  static override properties = {
    ...PageElement.properties,
    scenarios: { state: true },
    selected: { state: true },
    versions: { state: true },
    error: { state: true },
    formError: { state: true },
    notice: { state: true },
    stale: { state: true },
    newError: { state: true },
    nameError: { state: true },
  };
  declare scenarios: Scenario[] | undefined;
  declare selected: number | null;
  declare versions: ScenarioVersion[];
  declare error: ActionError | null;
  declare formError: string;
  declare notice: string;
  declare stale: boolean;
  declare newError: string;
  declare nameError: string;
  choices: Choices = {};
  private draft: { name: string; actions: ScenarioAction[] } | null = null;
  private readonly editor = new ActionEditor(this);
  private off: (() => void) | undefined;

  constructor() {
    super();
    this.selected = null;
    this.versions = [];
    this.error = null;
    this.formError = '';
    this.notice = '';
    this.stale = false;
    this.newError = '';
    this.nameError = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load(new URLSearchParams(location.search).get('scenario'));
    this.off = live.subscribe((_s, e) => {
      if (!e || e.type !== 'config.changed') return;
      const r = String(e.data.resource);
      if (r === 'scenarios' || r === 'numbers') {
        if (this.dirty()) this.stale = true;
        else void this.load();
      } else if (r === 'sounds' || r === 'queues' || r === 'users') void this.loadChoices();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }

  /** ActionEditorHost: an edit in the action lists. */
  changed(): void {
    this.requestUpdate();
  }

  private current(): Scenario | undefined {
    return this.scenarios?.find((s) => s.id === this.selected);
  }

  private dirty(): boolean {
    const s = this.current();
    return !!s && !!this.draft && (this.draft.name !== s.name || JSON.stringify(this.draft.actions) !== JSON.stringify(s.actions));
  }

  private async loadChoices(): Promise<void> {
    this.choices = await loadChoices(this.user, ['sounds', 'users', 'queues', 'scenarios', 'numbers']);
    this.requestUpdate();
  }

  private async load(selectName?: string | null): Promise<void> {
    const [scenarios] = await Promise.all([listScenarios(), this.loadChoices()]);
    this.scenarios = scenarios;
    this.stale = false;
    const wanted = selectName ? scenarios.find((s) => s.name === selectName) : undefined;
    this.select(wanted?.id ?? (scenarios.some((s) => s.id === this.selected) ? this.selected : (scenarios[0]?.id ?? null)));
  }

  private select(id: number | null): void {
    this.selected = id;
    const s = this.current();
    this.draft = s ? { name: s.name, actions: clone(s.actions) } : null;
    this.error = null;
    this.formError = '';
    this.nameError = '';
    this.versions = [];
    if (s) void listVersions(s.id).then((v) => (this.versions = v));
  }

  private async save(): Promise<void> {
    const s = this.current();
    if (!s || !this.draft) return;
    this.error = null;
    this.formError = '';
    this.nameError = '';
    this.notice = '';
    try {
      const saved = await saveScenario(s.id, { ...(this.draft.name !== s.name ? { name: this.draft.name } : {}), actions: this.draft.actions });
      this.notice = saved.version === s.version ? t('scenarioUnchanged') : t('scenarioSaved', { version: saved.version });
      await this.load();
    } catch (err) {
      const p = placeError(err);
      this.error = locateActionError(p.field, p.message);
      if (p.field === 'name') this.nameError = p.message;
      this.formError = this.error || this.nameError ? t('scenarioHasError') : p.message;
      this.requestUpdate();
    }
  }

  private async create(e: Event): Promise<void> {
    e.preventDefault();
    const input = (e.target as HTMLFormElement).querySelector('input')!;
    this.newError = '';
    try {
      const s = await createScenario(input.value.trim(), [{ type: 'answer' }]);
      input.value = '';
      await this.load(s.name);
    } catch (err) {
      this.newError = placeError(err).message;
    }
  }

  private async removeScenario(): Promise<void> {
    const s = this.current();
    if (!s || !confirm(t('confirmDelete', { what: s.name }))) return;
    try {
      await deleteScenario(s.id);
      this.selected = null;
      await this.load();
    } catch (err) {
      this.formError = placeError(err).message;
    }
  }

  private async restore(v: ScenarioVersion): Promise<void> {
    const s = this.current();
    if (!s) return;
    try {
      const r = await restoreVersion(s.id, v.version);
      this.notice = t('versionRestored', { from: v.version, version: r.version });
      await this.load();
    } catch (err) {
      this.formError = placeError(err).message;
    }
  }

  private picker(): TemplateResult {
    const list = this.scenarios ?? [];
    return html`<section class="card" aria-labelledby="pick-h">
      <h2 id="pick-h" class="visually-hidden">${t('scenarioChoose')}</h2>
      <div class="toolbar">
        ${list.length > 0
          ? html`<div class="field">
              <label for="scenario-select">${t('scenarioLabel')}</label>
              <select
                id="scenario-select"
                @change=${(e: Event) => {
                  if (this.dirty() && !confirm(t('discardChanges'))) {
                    (e.target as HTMLSelectElement).value = String(this.selected);
                    return;
                  }
                  this.select(Number((e.target as HTMLSelectElement).value));
                }}
              >
                ${list.map((s) => html`<option value=${s.id} ?selected=${s.id === this.selected}>${s.name} (v${s.version})</option>`)}
              </select>
            </div>`
          : html`<p class="empty">${t('noScenarios')}</p>`}
        <form class="inline" aria-label=${t('newScenario')} @submit=${(e: Event) => void this.create(e)}>
          ${textField({ id: 'new-scenario', label: t('newScenarioName'), value: undefined, required: true, error: this.newError, onChange: () => undefined })}
          <button type="submit" class="secondary">${t('newScenario')}</button>
        </form>
      </div>
    </section>`;
  }

  private editorCard(s: Scenario): TemplateResult {
    const d = this.draft!;
    const dirty = this.dirty();
    return html`<section class="card" aria-labelledby="edit-h">
      <h2 id="edit-h">${t('editScenario', { name: s.name, version: s.version })}</h2>
      <form
        aria-label=${t('editScenario', { name: s.name, version: s.version })}
        @submit=${(e: Event) => {
          e.preventDefault();
          void this.save();
        }}
      >
        <div class="fields">
          ${textField({ id: 'scenario-name', label: t('name'), value: d.name, error: this.nameError || undefined, onChange: (v) => ((d.name = v), this.requestUpdate()) })}
        </div>
        <p class="hint">${t('scenarioOrderHint')}</p>
        ${d.actions.length === 0 ? html`<p class="empty">${t('noActions')}</p>` : nothing} ${this.editor.list(d.actions, 'actions', t('mainActions'))}
        <div class="toolbar">
          <button type="submit" ?disabled=${!dirty}>${t('saveVersion')}</button>
          <button type="button" class="secondary" ?disabled=${!dirty} @click=${() => this.select(s.id)}>${t('discard')}</button>
          <button type="button" class="danger" @click=${() => void this.removeScenario()}>${t('deleteScenario')}</button>
          ${dirty ? html`<span class="badge warn">${t('unsaved')}</span>` : nothing}
        </div>
        ${this.formError ? html`<p class="error" role="alert">${this.formError}</p>` : nothing}
      </form>
    </section>`;
  }

  private versionsCard(s: Scenario): TemplateResult {
    return html`<section class="card" aria-labelledby="versions-h">
      <h2 id="versions-h">${t('versionsTitle')}</h2>
      ${this.versions.length === 0
        ? html`<p class="empty">${t('loading')}</p>`
        : html`<table>
            <thead>
              <tr><th scope="col">${t('versionLabel')}</th><th scope="col">${t('savedAt')}</th><th scope="col">${t('savedBy')}</th><th scope="col">${t('actionCount')}</th><th scope="col">${t('actions')}</th></tr>
            </thead>
            <tbody>
              ${this.versions.map(
                (v) => html`<tr data-version=${v.version}>
                  <td>v${v.version}${v.version === s.version ? html` <span class="badge ok">${t('currentVersion')}</span>` : nothing}</td>
                  <td>${formatDateTime(v.created_at)}</td>
                  <td>${v.created_by ?? '—'}</td>
                  <td>${v.actions.length}</td>
                  <td>
                    ${v.version === s.version
                      ? nothing
                      : html`<button type="button" class="secondary small" aria-label=${t('restoreVersion', { version: v.version })} @click=${() => void this.restore(v)}>${t('restore')}</button>`}
                  </td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    </section>`;
  }

  override render(): TemplateResult {
    if (!this.scenarios) return html`<p>${t('loading')}</p>`;
    const s = this.current();
    // The simulator starts on a number that runs the scenario being edited.
    const number = (this.choices.numbers?.find((n) => n.scenario === s?.name) ?? this.choices.numbers?.[0])?.did;
    return html`<h1>${t('navScenarios')}</h1>
      ${this.stale
        ? html`<p class="stale" role="status">${t('changedElsewhere')} <button type="button" class="secondary small" @click=${() => void this.load()}>${t('reload')}</button></p>`
        : nothing}
      ${this.notice ? html`<p class="success" role="status">${this.notice}</p>` : nothing} ${this.picker()} ${s && this.draft ? this.editorCard(s) : nothing}
      <scenario-simulator .numbers=${this.choices.numbers} .users=${this.choices.users} .defaultNumber=${number} .lang=${this.lang}></scenario-simulator>
      ${s ? this.versionsCard(s) : nothing}
      <calendar-card .lang=${this.lang}></calendar-card>`;
  }
}

customElements.define('page-scenarios', PageScenarios);
