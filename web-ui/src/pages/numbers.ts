// Numbers: each inbound number with every per-number setting (record, IVR, receive / forward all / don't accept,
// online ring mode, offline option, welcome and voicedrop messages, assigned users) and its answering behaviour.
import { html, nothing, type TemplateResult } from 'lit';
import { PageElement } from '../components/page.js';
import { configStyles } from '../components/config-styles.js';
import { pageStyles } from '../components/styles.js';
import { checkbox, namePicker, placeError, textField, topField } from '../components/pickers.js';
import { loadChoices, type Choices } from '../data/choices.js';
import { live } from '../data/live.js';
import {
  BEHAVIOUR_TYPES,
  NUMBER_MODES,
  OFFLINE_TYPES,
  RING_MODES,
  applyBehaviour,
  createNumber,
  deleteNumber,
  listNumbers,
  saveNumber,
  type BehaviourSpec,
  type BehaviourType,
  type InboundNumber,
  type NumberSettings,
  type OfflineAction,
  type OfflineType,
  type SmartSpec,
} from '../data/numbers.js';
import { LANGUAGES, listScenarios, type Language, type Scenario } from '../data/scenarios.js';
import { hasRight } from '../data/session.js';
import { t, type MessageKey } from '../i18n.js';

type Errors = Record<string, string>;

/** The fields whose errors are shown next to them; an error on another field is shown under the form. */
const SETTINGS_SHOWN = ['did', 'name', 'trunk', 'scenario', 'mode', 'forward_to', 'offline_action', 'unavailable_action', 'welcome_sound', 'voicedrop_sound', 'users'];
const BEHAVIOUR_SHOWN = ['type', 'to', 'ring_time', 'languages', 'welcome', 'options'];

interface BehaviourDraft {
  type: BehaviourType;
  to: string;
  ringTime: string;
  then: 'smart_answering' | 'custom_smart_answering';
  languages: Language[];
  welcome: string;
  options: { name: string; kind: 'voicemail' | 'forward'; to: string; mailbox: string }[];
}

const key = (prefix: string, v: string): MessageKey => `${prefix}${v.replace(/(^|_)([a-z])/g, (_m, _u: string, c: string) => c.toUpperCase())}` as MessageKey;
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const settingsOf = (n: InboundNumber): NumberSettings => {
  const { id: _id, ...rest } = n;
  return clone(rest);
};

function offlineOf(type: OfflineType, cur: OfflineAction | undefined): OfflineAction {
  if (type === 'message') return { type, sound: cur?.type === 'message' ? cur.sound : '' };
  if (type === 'forward') return { type, to: cur?.type === 'forward' ? cur.to : '' };
  return { type };
}

export class PageNumbers extends PageElement {
  static override styles = [pageStyles, configStyles];
  static override properties = {
    ...PageElement.properties,
    numbers: { state: true },
    errors: { state: true },
    notices: { state: true },
    stale: { state: true },
    newErrors: { state: true },
  };
  declare numbers: InboundNumber[] | undefined;
  declare errors: Record<number, Errors>;
  declare notices: Record<number, string>;
  declare stale: boolean;
  declare newErrors: Errors;
  private drafts = new Map<number, NumberSettings>();
  private behaviours = new Map<number, BehaviourDraft>();
  private behaviourErrors = new Map<number, Errors>();
  private choices: Choices = {};
  private scenarios: Scenario[] = [];
  private off: (() => void) | undefined;

  constructor() {
    super();
    this.errors = {};
    this.notices = {};
    this.stale = false;
    this.newErrors = {};
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    this.off = live.subscribe((_s, e) => {
      if (!e || e.type !== 'config.changed' || !['numbers', 'scenarios', 'sounds', 'users', 'services'].includes(String(e.data.resource))) return;
      // Somebody else's change: shown at once, unless it would throw away what is being typed here.
      if (this.dirty()) this.stale = true;
      else void this.load();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }

  private dirty(): boolean {
    return (this.numbers ?? []).some((n) => JSON.stringify(settingsOf(n)) !== JSON.stringify(this.drafts.get(n.id)));
  }

  private async load(): Promise<void> {
    const canScenarios = hasRight(this.user, 'scenarios');
    const [numbers, choices, scenarios] = await Promise.all([
      listNumbers(),
      loadChoices(this.user, ['sounds', 'users', 'scenarios', 'trunks']),
      canScenarios ? listScenarios().catch(() => []) : Promise.resolve([]),
    ]);
    this.choices = choices;
    this.scenarios = scenarios;
    this.drafts = new Map(numbers.map((n) => [n.id, settingsOf(n)]));
    for (const n of numbers) if (!this.behaviours.has(n.id)) this.behaviours.set(n.id, this.behaviourDraft(n));
    this.stale = false;
    this.numbers = numbers;
  }

  /** The behaviour form starts from what the number has: its type, and the forward of its generated scenario. */
  private behaviourDraft(n: InboundNumber): BehaviourDraft {
    const d: BehaviourDraft = { type: n.behaviour ?? 'smart_answering', to: '', ringTime: '15', then: 'smart_answering', languages: ['fr', 'en'], welcome: '', options: [{ name: '', kind: 'voicemail', to: '', mailbox: '' }] };
    const first = this.scenarios.find((s) => s.name === n.scenario)?.actions[0];
    if (first?.type === 'transfer' && (n.behaviour === 'forward_only' || n.behaviour === 'forward_then_smart')) {
      d.to = String(first.to ?? '');
      if (n.behaviour === 'forward_then_smart' && typeof first.ring_time === 'number') d.ringTime = String(first.ring_time);
    }
    return d;
  }

  private update_(): void {
    this.requestUpdate();
  }

  private async save(n: InboundNumber): Promise<void> {
    const draft = this.drafts.get(n.id)!;
    this.errors = { ...this.errors, [n.id]: {} };
    this.notices = { ...this.notices, [n.id]: '' };
    try {
      await saveNumber(n.id, draft);
      await this.load();
      this.notices = { ...this.notices, [n.id]: t('numSaved') };
    } catch (err) {
      const p = placeError(err);
      const f = topField(p.field);
      this.errors = { ...this.errors, [n.id]: { [SETTINGS_SHOWN.includes(f) ? f : '_form']: p.message } };
    }
  }

  private async removeNumber(n: InboundNumber): Promise<void> {
    if (!confirm(t('confirmDelete', { what: n.did }))) return;
    try {
      await deleteNumber(n.id);
      await this.load();
    } catch (err) {
      this.errors = { ...this.errors, [n.id]: { _form: placeError(err).message } };
    }
  }

  private async add(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const did = (form.querySelector('#new-did') as HTMLInputElement).value.trim();
    const name = (form.querySelector('#new-name') as HTMLInputElement).value.trim();
    this.newErrors = {};
    try {
      await createNumber({ did, ...(name ? { name } : {}) });
      form.reset();
      await this.load();
    } catch (err) {
      const p = placeError(err);
      const f = topField(p.field);
      this.newErrors = { [f === 'did' || f === 'name' ? f : '_form']: p.message };
    }
  }

  private spec(d: BehaviourDraft): BehaviourSpec {
    const smart = (type: 'smart_answering' | 'custom_smart_answering'): SmartSpec =>
      type === 'smart_answering'
        ? { type, languages: d.languages }
        : {
            type,
            languages: d.languages,
            ...(d.welcome.trim() ? { welcome: d.welcome.trim() } : {}),
            options: d.options.map((o) => ({ name: o.name, action: o.kind === 'forward' ? { type: 'forward' as const, to: o.to } : { type: 'voicemail' as const, ...(o.mailbox ? { mailbox: o.mailbox } : {}) } })),
          };
    switch (d.type) {
      case 'smart_answering':
      case 'custom_smart_answering':
        return smart(d.type);
      case 'forward_only':
        return { type: d.type, to: d.to };
      case 'forward_then_smart': {
        const ring = Number(d.ringTime);
        return { type: d.type, to: d.to, ...(d.ringTime !== '' && Number.isFinite(ring) ? { ring_time: ring } : {}), then: smart(d.then) };
      }
    }
  }

  private async apply(n: InboundNumber): Promise<void> {
    const d = this.behaviours.get(n.id)!;
    this.behaviourErrors.set(n.id, {});
    this.notices = { ...this.notices, [n.id]: '' };
    try {
      const out = await applyBehaviour(n.id, this.spec(d));
      await this.load();
      this.notices = { ...this.notices, [n.id]: t('behaviourApplied', { name: out.scenario.name, version: out.scenario.version }) };
    } catch (err) {
      const p = placeError(err);
      // `then.options[0].name` is shown with the options; `then` alone with the choice of what follows.
      const f = p.field.startsWith('then.') ? topField(p.field.slice(5)) : topField(p.field);
      this.behaviourErrors.set(n.id, { [BEHAVIOUR_SHOWN.includes(f) ? f : '_form']: p.message });
      this.update_();
    }
  }

  private radios<T extends string>(name: string, legend: string, values: readonly T[], current: T, label: (v: T) => string, onPick: (v: T) => void, hint?: (v: T) => string): TemplateResult {
    return html`<fieldset>
      <legend>${legend}</legend>
      ${values.map(
        (v) => html`<label class="radio" for="${name}-${v}"
          ><input type="radio" id="${name}-${v}" name=${name} .checked=${v === current} @change=${() => onPick(v)} />
          <span>${label(v)}${hint ? html`<span class="hint">${hint(v)}</span>` : nothing}</span></label
        >`,
      )}
    </fieldset>`;
  }

  private offlineFields(p: string, which: 'offline_action' | 'unavailable_action', d: NumberSettings, errors: Errors): TemplateResult {
    const cur = d[which] ?? (which === 'offline_action' ? { type: 'voicemail' } : { type: 'busy' });
    const types = which === 'offline_action' ? OFFLINE_TYPES : OFFLINE_TYPES.filter((x) => x !== 'forward');
    const set = (a: OfflineAction): void => {
      d[which] = a;
      this.update_();
    };
    return html`<div class="fields">
      ${this.radios(`${p}-${which}`, which === 'offline_action' ? t('offlineLegend') : t('unavailableLegend'), types, cur.type, (v) => t(key('off', v)), (v) => set(offlineOf(v, cur)))}
      ${cur.type === 'message'
        ? namePicker({ id: `${p}-${which}-sound`, label: t('offSound'), value: cur.sound || undefined, choices: this.choices.sounds, error: errors[which], onChange: (v) => set({ type: 'message', sound: v ?? '' }) })
        : cur.type === 'forward'
          ? textField({ id: `${p}-${which}-to`, label: t('offTo'), type: 'tel', value: cur.to, error: errors[which], onChange: (v) => set({ type: 'forward', to: v }) })
          : errors[which]
            ? html`<span class="error" role="alert">${errors[which]}</span>`
            : nothing}
    </div>`;
  }

  private usersField(p: string, d: NumberSettings, errors: Errors): TemplateResult {
    const all = this.choices.users;
    const every = d.users === undefined;
    if (!all) {
      return textField({
        id: `${p}-users`,
        label: t('usersText'),
        value: (d.users ?? []).join(', '),
        on: 'change',
        error: errors.users,
        hint: t('usersHint'),
        onChange: (v) => {
          const list = v.split(/[,\s]+/).filter(Boolean);
          if (list.length === 0) delete d.users;
          else d.users = list;
          this.update_();
        },
      });
    }
    return html`<fieldset>
      <legend>${t('usersLegend')}</legend>
      <span class="hint">${t('usersHint')}</span>
      ${checkbox(`${p}-users-every`, t('everyUser'), every, (v) => {
        if (v) delete d.users;
        else d.users = [];
        this.update_();
      })}
      ${every
        ? nothing
        : all.map((u) =>
            checkbox(`${p}-user-${u}`, u, d.users!.includes(u), (v) => {
              d.users = v ? [...d.users!, u] : d.users!.filter((x) => x !== u);
              this.update_();
            }),
          )}
      ${errors.users ? html`<span class="error" role="alert">${errors.users}</span>` : nothing}
    </fieldset>`;
  }

  private settingsForm(n: InboundNumber): TemplateResult {
    const p = `n${n.id}`;
    const d = this.drafts.get(n.id)!;
    const errors = this.errors[n.id] ?? {};
    const mode = d.mode ?? 'receive';
    const set = <K extends keyof NumberSettings>(k: K, v: NumberSettings[K] | undefined): void => {
      if (v === undefined || v === '') delete d[k];
      else d[k] = v;
      this.update_();
    };
    return html`<form
      aria-label=${t('numSettingsOf', { did: n.did })}
      @submit=${(e: Event) => {
        e.preventDefault();
        void this.save(n);
      }}
    >
      <div class="fields">
        ${textField({ id: `${p}-did`, label: t('numDid'), type: 'tel', value: d.did, error: errors.did, required: true, onChange: (v) => set('did', v) })}
        ${textField({ id: `${p}-name`, label: t('name'), value: d.name, error: errors.name, onChange: (v) => set('name', v) })}
        ${namePicker({ id: `${p}-trunk`, label: t('numTrunk'), value: d.trunk, choices: this.choices.trunks, optional: true, error: errors.trunk, onChange: (v) => set('trunk', v) })}
        ${namePicker({ id: `${p}-scenario`, label: t('numScenario'), value: d.scenario, choices: this.choices.scenarios, optional: true, error: errors.scenario, hint: t('numScenarioHint'), onChange: (v) => set('scenario', v) })}
      </div>
      ${checkbox(`${p}-record`, t('numRecord'), d.record === true, (v) => set('record', v ? true : undefined))}
      <span class="hint">${t('numRecordHint')}</span>
      ${this.radios(`${p}-mode`, t('numModeLegend'), NUMBER_MODES, mode, (v) => t(key('mode', v)), (v) => set('mode', v === 'receive' ? undefined : v))}
      ${errors.mode ? html`<span class="error" role="alert">${errors.mode}</span>` : nothing}
      ${mode === 'forward'
        ? html`<div class="fields">${textField({ id: `${p}-forward-to`, label: t('numForwardTo'), type: 'tel', value: d.forward_to, error: errors.forward_to, hint: t('numForwardHint'), onChange: (v) => set('forward_to', v) })}</div>`
        : nothing}
      ${mode === 'receive'
        ? html`${this.radios(`${p}-ring`, t('ringModeLegend'), RING_MODES, d.ring_mode ?? 'simultaneous', (v) => t(key('ring', v)), (v) => set('ring_mode', v === 'simultaneous' ? undefined : v), (v) => t(key('ringHint', v)))}
          ${this.offlineFields(p, 'offline_action', d, errors)}`
        : nothing}
      ${mode === 'reject' ? this.offlineFields(p, 'unavailable_action', d, errors) : nothing}
      <fieldset class="row">
        <legend>${t('messagesLegend')}</legend>
        ${namePicker({ id: `${p}-welcome`, label: t('welcomeSound'), value: d.welcome_sound, choices: this.choices.sounds, optional: true, error: errors.welcome_sound, hint: t('welcomeHint'), onChange: (v) => set('welcome_sound', v) })}
        ${namePicker({ id: `${p}-voicedrop`, label: t('voicedropSound'), value: d.voicedrop_sound, choices: this.choices.sounds, optional: true, error: errors.voicedrop_sound, hint: t('voicedropHint'), onChange: (v) => set('voicedrop_sound', v) })}
      </fieldset>
      ${this.usersField(p, d, errors)}
      <div class="toolbar">
        <button type="submit">${t('save')}</button>
        <button type="button" class="danger" @click=${() => void this.removeNumber(n)} aria-label="${t('delete')} ${n.did}">${t('delete')}</button>
      </div>
      ${errors._form ? html`<p class="error" role="alert">${errors._form}</p>` : nothing}
    </form>`;
  }

  private smartFields(p: string, d: BehaviourDraft, type: 'smart_answering' | 'custom_smart_answering', errors: Errors): TemplateResult {
    const langs = html`<fieldset class="row">
      <legend>${t('bLanguages')}</legend>
      ${LANGUAGES.map((l) =>
        checkbox(`${p}-lang-${l}`, t(key('lang', l)), d.languages.includes(l), (v) => {
          d.languages = v ? LANGUAGES.filter((x) => x === l || d.languages.includes(x)) : d.languages.filter((x) => x !== l);
          this.update_();
        }),
      )}
      ${errors.languages ? html`<span class="error" role="alert">${errors.languages}</span>` : nothing}
    </fieldset>`;
    if (type === 'smart_answering') return html`${langs}<p class="hint">${t('bSmartServices')}</p>`;
    return html`${langs}
      <div class="fields">${textField({ id: `${p}-welcome-words`, label: t('bWelcome'), value: d.welcome, error: errors.welcome, onChange: (v) => ((d.welcome = v), this.update_()) })}</div>
      <fieldset>
        <legend>${t('bOptions')}</legend>
        ${d.options.map(
          (o, i) => html`<div class="fields option">
            <span class="step-no">${i + 1}</span>
            ${textField({ id: `${p}-opt${i}-name`, label: t('bOptionName', { n: i + 1 }), value: o.name, onChange: (v) => ((o.name = v), this.update_()) })}
            <div class="field">
              <label for="${p}-opt${i}-kind">${t('bOptionAction', { n: i + 1 })}</label>
              <select id="${p}-opt${i}-kind" @change=${(e: Event) => ((o.kind = (e.target as HTMLSelectElement).value as 'voicemail' | 'forward'), this.update_())}>
                <option value="voicemail" ?selected=${o.kind === 'voicemail'}>${t('bVoicemail')}</option>
                <option value="forward" ?selected=${o.kind === 'forward'}>${t('bForwardTo')}</option>
              </select>
            </div>
            ${o.kind === 'forward'
              ? textField({ id: `${p}-opt${i}-to`, label: t('offTo'), type: 'tel', value: o.to, onChange: (v) => ((o.to = v), this.update_()) })
              : textField({ id: `${p}-opt${i}-mailbox`, label: t('bMailbox'), value: o.mailbox, onChange: (v) => ((o.mailbox = v), this.update_()) })}
            <button type="button" class="danger small" aria-label=${t('removeOption', { n: i + 1 })} ?disabled=${d.options.length === 1} @click=${() => (d.options.splice(i, 1), this.update_())}>✕</button>
          </div>`,
        )}
        ${errors.options ? html`<span class="error" role="alert">${errors.options}</span>` : nothing}
        <div>
          <button type="button" class="secondary small" ?disabled=${d.options.length >= 9} @click=${() => (d.options.push({ name: '', kind: 'voicemail', to: '', mailbox: '' }), this.update_())}>${t('addOption')}</button>
        </div>
      </fieldset>`;
  }

  private behaviourForm(n: InboundNumber): TemplateResult {
    const p = `b${n.id}`;
    const d = this.behaviours.get(n.id)!;
    const errors = this.behaviourErrors.get(n.id) ?? {};
    const current = n.behaviour ? t(key('b', n.behaviour)) : t('behaviourNone');
    return html`<form
      aria-label=${t('behaviourOf', { did: n.did })}
      @submit=${(e: Event) => {
        e.preventDefault();
        void this.apply(n);
      }}
    >
      <h3>${t('behaviourLegend')}</h3>
      <p class="muted">${t('behaviourCurrent', { b: current })}${n.behaviour && n.scenario ? html` · ${this.scenarioLink(n.scenario)}` : nothing}</p>
      ${this.radios(`${p}-type`, t('behaviourChoose'), BEHAVIOUR_TYPES, d.type, (v) => t(key('b', v)), (v) => ((d.type = v), this.update_()), (v) => t(key('bHint', v)))}
      ${errors.type ? html`<span class="error" role="alert">${errors.type}</span>` : nothing}
      ${d.type === 'forward_only' || d.type === 'forward_then_smart'
        ? html`<div class="fields">
            ${textField({ id: `${p}-to`, label: t('bTo'), type: 'tel', value: d.to, error: errors.to, onChange: (v) => ((d.to = v), this.update_()) })}
            ${d.type === 'forward_then_smart'
              ? textField({ id: `${p}-ring`, label: t('bRingTime'), type: 'number', min: 5, max: 600, value: d.ringTime, error: errors.ring_time, onChange: (v) => ((d.ringTime = v), this.update_()) })
              : nothing}
          </div>`
        : nothing}
      ${d.type === 'forward_then_smart'
        ? html`${this.radios(`${p}-then`, t('bThen'), ['smart_answering', 'custom_smart_answering'] as const, d.then, (v) => t(key('b', v)), (v) => ((d.then = v), this.update_()))}
          ${this.smartFields(p, d, d.then, errors)}`
        : d.type === 'forward_only'
          ? nothing
          : this.smartFields(p, d, d.type, errors)}
      <p class="hint">${t('behaviourGenerates')}</p>
      <div class="toolbar"><button type="submit">${t('applyBehaviour')}</button></div>
      ${errors._form ? html`<p class="error" role="alert">${errors._form}</p>` : nothing}
    </form>`;
  }

  private scenarioLink(name: string): TemplateResult {
    const href = `/scenarios?scenario=${encodeURIComponent(name)}`;
    return html`<a
      href=${href}
      @click=${(e: MouseEvent) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey) return;
        e.preventDefault();
        this.dispatchEvent(new CustomEvent('navigate', { detail: href, bubbles: true, composed: true }));
      }}
      >${t('openScenario', { name })}</a
    >`;
  }

  private card(n: InboundNumber): TemplateResult {
    const notice = this.notices[n.id];
    return html`<section class="card" data-number=${n.did} aria-labelledby="h-${n.id}">
      <h2 id="h-${n.id}">${n.name ? `${n.name} — ` : ''}${n.did}</h2>
      ${notice ? html`<p class="success" role="status">${notice}</p>` : nothing} ${this.settingsForm(n)}
      ${hasRight(this.user, 'scenarios') ? this.behaviourForm(n) : nothing}
    </section>`;
  }

  override render(): TemplateResult {
    if (!this.numbers) return html`<p>${t('loading')}</p>`;
    return html`<h1>${t('navNumbers')}</h1>
      ${this.stale
        ? html`<p class="stale" role="status">${t('changedElsewhere')} <button type="button" class="secondary small" @click=${() => void this.load()}>${t('reload')}</button></p>`
        : nothing}
      ${this.numbers.length === 0 ? html`<p class="empty">${t('noNumbers')}</p>` : this.numbers.map((n) => this.card(n))}
      <section class="card" aria-labelledby="new-number-h">
        <h2 id="new-number-h">${t('newNumber')}</h2>
        <form class="inline" aria-label=${t('newNumber')} @submit=${(e: Event) => void this.add(e)}>
          ${textField({ id: 'new-did', label: t('numDid'), type: 'tel', value: undefined, required: true, error: this.newErrors.did, onChange: () => undefined })}
          ${textField({ id: 'new-name', label: t('name'), value: undefined, error: this.newErrors.name, onChange: () => undefined })}
          <button type="submit">${t('create')}</button>
        </form>
        ${this.newErrors._form ? html`<p class="error" role="alert">${this.newErrors._form}</p>` : nothing}
      </section>`;
  }
}

customElements.define('page-numbers', PageNumbers);
