// The scenario editor's action lists: ordered actions (drag to reorder, or the move up/down buttons from the
// keyboard), every action type of docs/site-file.md with its fields, `when` conditions, DTMF menus whose options
// hold their own action lists, and the API's error shown on the action (and field) it names.
import { html, nothing, type TemplateResult } from 'lit';
import { checkbox, moveItem, namePicker, textField } from './pickers.js';
import type { Choices } from '../data/choices.js';
import { ACTION_TYPES, LANGUAGES, WEEKDAYS, type ActionType, type Condition, type LocalisedName, type MenuOption, type ScenarioAction, type Weekday } from '../data/scenarios.js';
import { t, type MessageKey } from '../i18n.js';

/** System prompts a scenario may play (services/media/sounds/prompt-texts.ts). */
export const PROMPTS = [
  'welcome',
  'thank-you-for-calling',
  'please-hold',
  'all-agents-busy',
  'leave-message-after-tone',
  'thank-you-goodbye',
  'goodbye',
  'enter-phone-number',
  'we-will-call-you-back',
  'callback-offer',
  'language-menu',
  'choose-category',
  'choose-service',
  'closed',
  'call-recorded',
  'transferring',
  'number-not-available',
  'no-answer',
] as const;

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '*', '#'];

const camel = (s: string): string => s.replace(/(^|_)([a-z])/g, (_m, _u: string, c: string) => c.toUpperCase());
export const actionLabel = (type: string): string => t(`act${camel(type)}` as MessageKey);

/** An error of the API placed in an action list: the path of the action it names and the rest of its field. */
export interface ActionError {
  action: string;
  field: string;
  message: string;
}

/** `actions[2].options[0].actions[1].to` → action `actions[2].options[0].actions[1]`, field `to`. */
export function locateActionError(field: string, message: string): ActionError | null {
  const m = /^(.*(?:actions|no_match)\[\d+\])(?:\.(.*))?$/.exec(field);
  if (!m) return null;
  return { action: m[1]!, field: m[2] ?? '', message };
}

/** A new action of a type, with the fields it needs filled from what the site has. */
export function newAction(type: ActionType, choices: Choices, current?: ScenarioAction): ScenarioAction {
  const keep = current?.when ? { when: current.when } : {};
  switch (type) {
    case 'play':
      return { type, prompt: 'welcome', ...keep };
    case 'set_language':
      return { type, language: 'fr', ...keep };
    case 'distribute':
      return { type, queue: choices.queues?.[0] ?? '', ...keep };
    case 'call_user':
      return { type, user: choices.users?.[0] ?? '', ring_time: 20, ...keep };
    case 'transfer':
      return { type, to: '', ...keep };
    case 'detect_dtmf':
      return { type, announce_options: true, options: [{ key: '1', name: '', actions: [] }], ...keep };
    case 'collect_digits':
      return { type, prompt: 'enter-phone-number', variable: 'callback_number', ...keep };
    case 'callback':
      return { type, delay_minutes: 0, ...keep };
    case 'goto_scenario':
      return { type, scenario: choices.scenarios?.[0] ?? '', ...keep };
    default:
      return { type, ...keep };
  }
}

export interface ActionEditorHost {
  choices: Choices;
  /** The action lists changed: re-render (and the scenario is now unsaved). */
  changed(): void;
  error: ActionError | null;
}

interface Drag {
  list: ScenarioAction[];
  index: number;
}

/** Renders action lists; one per scenario editor (it keeps the drag in progress). */
export class ActionEditor {
  private drag: Drag | null = null;
  private over: { list: ScenarioAction[]; index: number } | null = null;

  constructor(private readonly host: ActionEditorHost) {}

  /** A list of actions; `path` is its place in the API's field paths, `label` how it is named to a screen reader. */
  list(list: ScenarioAction[], path: string, label: string): TemplateResult {
    const id = path.replace(/[^a-z0-9]+/gi, '-');
    return html`<ol class="actions" aria-label=${label}>
        ${list.map((a, i) => this.action(list, i, a, `${path}[${i}]`, label))}
      </ol>
      <div class="toolbar">
        <div class="field">
          <label for="${id}-add">${t('addActionTo', { list: label })}</label>
          <select id="${id}-add">
            ${ACTION_TYPES.map((type) => html`<option value=${type}>${actionLabel(type)}</option>`)}
          </select>
        </div>
        <button
          type="button"
          class="secondary"
          aria-label=${t('addActionButton', { list: label })}
          @click=${(e: Event) => {
            const sel = (e.target as HTMLElement).closest('.toolbar')!.querySelector('select')!;
            list.push(newAction(sel.value as ActionType, this.host.choices));
            this.host.changed();
          }}
        >
          ${t('addAction')}
        </button>
      </div>`;
  }

  private action(list: ScenarioAction[], i: number, a: ScenarioAction, path: string, listLabel: string): TemplateResult {
    const id = path.replace(/[^a-z0-9]+/gi, '-');
    const no = listLabel === t('mainActions') ? `${i + 1}` : `${listLabel} › ${i + 1}`;
    const err = this.host.error && this.host.error.action === path ? this.host.error : null;
    const fieldErr = (f: string): string | undefined => (err && (err.field === f || err.field.startsWith(`${f}.`) || err.field.startsWith(`${f}[`)) ? err.message : undefined);
    const shown = ['sound', 'prompt', 'text', 'language', 'queue', 'user', 'ring_time', 'to', 'timeout', 'attempts', 'variable', 'min_digits', 'max_digits', 'mailbox', 'greeting', 'max_length', 'delay_minutes', 'scenario', 'when', 'options', 'no_match'];
    const cardErr = err && !shown.some((f) => fieldErr(f)) ? err.message : undefined;
    const dragging = this.drag?.list === list && this.drag.index === i;
    const target = this.over?.list === list && this.over.index === i && !dragging;
    return html`<li
      class="action ${dragging ? 'dragging' : ''} ${target ? 'drop-target' : ''}"
      data-action=${a.type}
      data-path=${path}
      draggable="true"
      @dragstart=${(e: DragEvent) => {
        e.stopPropagation();
        this.drag = { list, index: i };
        e.dataTransfer?.setData('text/plain', path);
        if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move';
        this.host.changed();
      }}
      @dragover=${(e: DragEvent) => {
        if (this.drag?.list !== list) return;
        e.preventDefault();
        e.stopPropagation();
        if (this.over?.index !== i || this.over.list !== list) {
          this.over = { list, index: i };
          this.host.changed();
        }
      }}
      @drop=${(e: DragEvent) => {
        if (this.drag?.list !== list) return;
        e.preventDefault();
        e.stopPropagation();
        moveItem(list, this.drag.index, i);
        this.drag = null;
        this.over = null;
        this.host.changed();
      }}
      @dragend=${() => {
        this.drag = null;
        this.over = null;
        this.host.changed();
      }}
    >
      <div class="action-head">
        <span class="handle" aria-hidden="true" title=${t('dragToReorder')}>⠿</span>
        <span class="step-no">${no}</span>
        <div class="field">
          <label for="${id}-type" class="visually-hidden">${t('actionType', { n: no })}</label>
          <select
            id="${id}-type"
            @change=${(e: Event) => {
              list[i] = newAction((e.target as HTMLSelectElement).value as ActionType, this.host.choices, a);
              this.host.changed();
            }}
          >
            ${ACTION_TYPES.map((type) => html`<option value=${type} ?selected=${type === a.type}>${actionLabel(type)}</option>`)}
          </select>
        </div>
        ${a.when ? html`<span class="badge warn">${t('conditional')}</span>` : nothing}
        <span class="spacer"></span>
        <button type="button" class="secondary small" aria-label=${t('moveUp', { n: no })} ?disabled=${i === 0} @click=${() => (moveItem(list, i, i - 1), this.host.changed())}>↑</button>
        <button type="button" class="secondary small" aria-label=${t('moveDown', { n: no })} ?disabled=${i === list.length - 1} @click=${() => (moveItem(list, i, i + 1), this.host.changed())}>↓</button>
        <button type="button" class="danger small" aria-label=${t('removeAction', { n: no })} @click=${() => (list.splice(i, 1), this.host.changed())}>✕</button>
      </div>
      ${this.fields(a, id, no, path, fieldErr)} ${a.type === 'distribute' ? html`<p class="queue-hint">${t('distributeHint')}</p>` : nothing}
      ${this.condition(a, id, fieldErr('when'))} ${cardErr ? html`<p class="error" role="alert">${cardErr}</p>` : nothing}
    </li>`;
  }

  private set(a: ScenarioAction, k: string, v: unknown): void {
    if (v === undefined || v === '') delete a[k];
    else a[k] = v;
    this.host.changed();
  }

  private int(a: ScenarioAction, id: string, k: string, label: string, min: number, max: number, err: string | undefined): TemplateResult {
    return textField({
      id: `${id}-${k}`,
      label,
      type: 'number',
      min,
      max,
      value: typeof a[k] === 'number' ? (a[k] as number) : undefined,
      error: err,
      onChange: (v) => this.set(a, k, v === '' || !Number.isFinite(Number(v)) ? undefined : Number(v)),
    });
  }

  /** What to play: a sound, a system prompt or text to speak (exactly one; none for menus that only announce). */
  private say(a: ScenarioAction, id: string, optional: boolean, fieldErr: (f: string) => string | undefined): TemplateResult {
    const kind = a.sound !== undefined ? 'sound' : a.prompt !== undefined ? 'prompt' : a.text !== undefined ? 'text' : '';
    const err = fieldErr('sound') ?? fieldErr('prompt') ?? fieldErr('text');
    const kinds = optional ? ['', 'sound', 'prompt', 'text'] : ['sound', 'prompt', 'text'];
    return html`<div class="field">
        <label for="${id}-say">${t('sayWhat')}</label>
        <select
          id="${id}-say"
          @change=${(e: Event) => {
            delete a.sound;
            delete a.prompt;
            delete a.text;
            const k = (e.target as HTMLSelectElement).value;
            if (k === 'sound') a.sound = this.host.choices.sounds?.[0] ?? '';
            if (k === 'prompt') a.prompt = 'welcome';
            if (k === 'text') a.text = '';
            this.host.changed();
          }}
        >
          ${kinds.map((k) => html`<option value=${k} ?selected=${k === kind}>${t(k === '' ? 'sayNothing' : k === 'sound' ? 'saySound' : k === 'prompt' ? 'sayPrompt' : 'sayText')}</option>`)}
        </select>
      </div>
      ${kind === 'sound' ? namePicker({ id: `${id}-sound`, label: t('soundLabel'), value: a.sound as string, choices: this.host.choices.sounds, error: err, onChange: (v) => ((a.sound = v ?? ''), this.host.changed()) }) : nothing}
      ${kind === 'prompt' ? namePicker({ id: `${id}-prompt`, label: t('promptLabel'), value: a.prompt as string, choices: [...PROMPTS], error: err, onChange: (v) => ((a.prompt = v ?? ''), this.host.changed()) }) : nothing}
      ${kind === 'text' ? textField({ id: `${id}-text`, label: t('textLabel'), value: a.text as string, error: err, hint: t('textHint'), onChange: (v) => ((a.text = v), this.host.changed()) }) : nothing}
      ${kind === '' && err ? html`<span class="error" role="alert">${err}</span>` : nothing}`;
  }

  private fields(a: ScenarioAction, id: string, no: string, path: string, fieldErr: (f: string) => string | undefined): TemplateResult | typeof nothing {
    const c = this.host.choices;
    switch (a.type) {
      case 'answer':
      case 'hangup':
        return nothing;
      case 'play':
        return html`<div class="fields">${this.say(a, id, false, fieldErr)} ${checkbox(`${id}-early`, t('playEarly'), a.early === true, (v) => this.set(a, 'early', v ? true : undefined))}</div>`;
      case 'set_language':
        return html`<div class="fields">
          ${namePicker({ id: `${id}-language`, label: t('languageLabel'), value: a.language as string, choices: [...LANGUAGES], optionLabel: (l) => t(`lang${camel(l)}` as MessageKey), error: fieldErr('language'), onChange: (v) => this.set(a, 'language', v) })}
        </div>`;
      case 'distribute':
        return html`<div class="fields">${namePicker({ id: `${id}-queue`, label: t('queueLabel'), value: a.queue as string, choices: c.queues, error: fieldErr('queue'), onChange: (v) => this.set(a, 'queue', v) })}</div>`;
      case 'call_user':
        return html`<div class="fields">
          ${namePicker({ id: `${id}-user`, label: t('userLabel'), value: a.user as string, choices: c.users, error: fieldErr('user'), onChange: (v) => this.set(a, 'user', v) })}
          ${this.int(a, id, 'ring_time', t('ringTimeLabel'), 5, 600, fieldErr('ring_time'))}
        </div>`;
      case 'transfer':
        return html`<div class="fields">
          ${textField({ id: `${id}-to`, label: t('transferTo'), type: 'tel', value: a.to as string, error: fieldErr('to'), onChange: (v) => this.set(a, 'to', v) })}
          ${this.int(a, id, 'ring_time', t('ringTimeLabel'), 5, 600, fieldErr('ring_time'))}
        </div>`;
      case 'detect_dtmf':
        return html`<div class="fields">
            ${this.say(a, id, true, fieldErr)} ${checkbox(`${id}-announce`, t('announceOptions'), a.announce_options === true, (v) => this.set(a, 'announce_options', v ? true : undefined))}
            ${this.int(a, id, 'timeout', t('timeoutLabel'), 1, 60, fieldErr('timeout'))} ${this.int(a, id, 'attempts', t('attemptsLabel'), 1, 10, fieldErr('attempts'))}
          </div>
          ${this.options(a, id, no, path, this.host.error?.field === 'options' ? fieldErr('options') : undefined)} ${this.noMatch(a, id, no, path)}`;
      case 'collect_digits':
        return html`<div class="fields">
          ${this.say(a, id, true, fieldErr)}
          ${textField({ id: `${id}-variable`, label: t('variableLabel'), value: a.variable as string, error: fieldErr('variable'), onChange: (v) => this.set(a, 'variable', v) })}
          ${this.int(a, id, 'min_digits', t('minDigits'), 1, 32, fieldErr('min_digits'))} ${this.int(a, id, 'max_digits', t('maxDigits'), 1, 32, fieldErr('max_digits'))}
          ${this.int(a, id, 'timeout', t('timeoutLabel'), 1, 60, fieldErr('timeout'))}
        </div>`;
      case 'voicemail':
        return html`<div class="fields">
          ${textField({ id: `${id}-mailbox`, label: t('mailboxLabel'), value: a.mailbox as string, error: fieldErr('mailbox'), hint: t('mailboxHint'), onChange: (v) => this.set(a, 'mailbox', v) })}
          ${namePicker({ id: `${id}-greeting`, label: t('greetingLabel'), value: a.greeting as string, choices: c.sounds, optional: true, error: fieldErr('greeting'), onChange: (v) => this.set(a, 'greeting', v) })}
          ${this.int(a, id, 'max_length', t('maxLength'), 5, 3600, fieldErr('max_length'))}
        </div>`;
      case 'callback':
        return html`<div class="fields">
          ${this.int(a, id, 'delay_minutes', t('delayMinutes'), 0, 10080, fieldErr('delay_minutes'))}
          ${namePicker({ id: `${id}-queue`, label: t('queueLabel'), value: a.queue as string, choices: c.queues, optional: true, error: fieldErr('queue'), onChange: (v) => this.set(a, 'queue', v) })}
        </div>`;
      case 'goto_scenario':
        return html`<div class="fields">
          ${namePicker({ id: `${id}-scenario`, label: t('scenarioLabel'), value: a.scenario as string, choices: c.scenarios, error: fieldErr('scenario'), onChange: (v) => this.set(a, 'scenario', v) })}
        </div>`;
    }
  }

  private options(a: ScenarioAction, id: string, no: string, path: string, err: string | undefined): TemplateResult {
    const options = (a.options ??= []);
    return html`<div class="nested">
      <h4>${t('menuOptions')}</h4>
      ${err ? html`<p class="error" role="alert">${err}</p>` : nothing}
      ${options.map((o, j) => this.option(options, o, j, id, no, `${path}.options[${j}]`))}
      <button
        type="button"
        class="secondary small"
        ?disabled=${options.length >= KEYS.length}
        @click=${() => {
          const free = KEYS.find((k) => !options.some((o) => o.key === k)) ?? '1';
          options.push({ key: free, name: '', actions: [] });
          this.host.changed();
        }}
      >
        ${t('addMenuOption', { n: no })}
      </button>
    </div>`;
  }

  private option(options: MenuOption[], o: MenuOption, j: number, id: string, no: string, path: string): TemplateResult {
    const oid = `${id}-o${j}`;
    const perLanguage = typeof o.name === 'object';
    const label = t('optionKey', { n: no, key: o.key });
    const err = this.optionError(path);
    return html`<div class="option" data-key=${o.key}>
      <div class="fields">
        <div class="field">
          <label for="${oid}-key">${t('keyLabel')}</label>
          <select id="${oid}-key" @change=${(e: Event) => ((o.key = (e.target as HTMLSelectElement).value), this.host.changed())}>
            ${KEYS.map((k) => html`<option value=${k} ?selected=${k === o.key}>${k}</option>`)}
          </select>
        </div>
        ${perLanguage
          ? LANGUAGES.map((l) =>
              textField({
                id: `${oid}-name-${l}`,
                label: t('optionNameIn', { lang: l.toUpperCase() }),
                value: (o.name as Partial<Record<string, string>>)[l],
                onChange: (v) => {
                  const n = { ...(o.name as Record<string, string>) };
                  if (v) n[l] = v;
                  else delete n[l];
                  o.name = n;
                  this.host.changed();
                },
              }),
            )
          : textField({ id: `${oid}-name`, label: t('optionName'), value: o.name as string, hint: t('optionNameHint'), onChange: (v) => ((o.name = v), this.host.changed()) })}
        ${checkbox(`${oid}-perlang`, t('namePerLanguage'), perLanguage, (v) => {
          o.name = v ? { fr: o.name as string, en: o.name as string } : toText(o.name);
          this.host.changed();
        })}
        <button type="button" class="danger small" aria-label=${t('removeMenuOption', { key: o.key, n: no })} @click=${() => (options.splice(j, 1), this.host.changed())}>✕</button>
      </div>
      ${err ? html`<p class="error" role="alert">${err}</p>` : nothing}
      <div class="nested">${this.list(o.actions, `${path}.actions`, label)}</div>
    </div>`;
  }

  private noMatch(a: ScenarioAction, id: string, no: string, path: string): TemplateResult {
    const has = a.no_match !== undefined;
    return html`<div class="nested">
      ${checkbox(`${id}-nomatch`, t('noMatchLabel'), has, (v) => {
        if (v) a.no_match = [];
        else delete a.no_match;
        this.host.changed();
      })}
      ${has ? this.list(a.no_match!, `${path}.no_match`, t('noMatchList', { n: no })) : nothing}
    </div>`;
  }

  private optionError(path: string): string | undefined {
    const e = this.host.error;
    if (!e) return undefined;
    const full = e.field ? `${e.action}.${e.field}` : e.action;
    return full.startsWith(`${path}.`) && !/\.actions\[\d+\]/.test(full.slice(path.length)) ? e.message : undefined;
  }

  private condition(a: ScenarioAction, id: string, err: string | undefined): TemplateResult {
    const on = a.when !== undefined;
    const w: Condition = a.when ?? {};
    const setW = (k: keyof Condition, v: unknown): void => {
      if (v === undefined || (Array.isArray(v) && v.length === 0)) delete w[k];
      else (w as Record<string, unknown>)[k] = v;
      this.host.changed();
    };
    const listOf = (v: string): string[] => v.split(/[,;\s]+/).filter(Boolean);
    return html`<div class="when">
      ${checkbox(`${id}-when`, t('onlyWhen'), on, (v) => {
        if (v) a.when = {};
        else delete a.when;
        this.host.changed();
      })}
      ${on
        ? html`<fieldset>
            <legend>${t('conditionLegend')}</legend>
            <fieldset class="row">
              <legend>${t('weekdaysLabel')}</legend>
              ${WEEKDAYS.map((d) =>
                checkbox(`${id}-wd-${d}`, t(`wd${camel(d)}` as MessageKey), (w.weekdays ?? []).includes(d), (v) =>
                  setW(
                    'weekdays',
                    WEEKDAYS.filter((x: Weekday) => (x === d ? v : (w.weekdays ?? []).includes(x))),
                  ),
                ),
              )}
            </fieldset>
            <div class="fields">
              ${textField({ id: `${id}-times`, label: t('timesLabel'), value: (w.times ?? []).join(', '), placeholder: '08:30-12:30, 13:30-18:00', on: 'change', onChange: (v) => setW('times', listOf(v)) })}
              ${textField({ id: `${id}-dates`, label: t('datesLabel'), value: (w.dates ?? []).join(', '), placeholder: '2026-12-24, 2026-12-31', on: 'change', onChange: (v) => setW('dates', listOf(v)) })}
              ${textField({ id: `${id}-from`, label: t('periodFrom'), value: w.period?.from, placeholder: 'YYYY-MM-DD', on: 'change', onChange: (v) => setW('period', v || w.period?.to ? { from: v, to: w.period?.to ?? '' } : undefined) })}
              ${textField({ id: `${id}-to-date`, label: t('periodTo'), value: w.period?.to, placeholder: 'YYYY-MM-DD', on: 'change', onChange: (v) => setW('period', v || w.period?.from ? { from: w.period?.from ?? '', to: v } : undefined) })}
              <div class="field">
                <label for="${id}-holiday">${t('holidayLabel')}</label>
                <select id="${id}-holiday" @change=${(e: Event) => {
                  const v = (e.target as HTMLSelectElement).value;
                  setW('holiday', v === '' ? undefined : v === 'true');
                }}>
                  <option value="" ?selected=${w.holiday === undefined}>${t('holidayAny')}</option>
                  <option value="true" ?selected=${w.holiday === true}>${t('holidayOnly')}</option>
                  <option value="false" ?selected=${w.holiday === false}>${t('holidayNot')}</option>
                </select>
              </div>
            </div>
            <span class="hint">${t('conditionHint')}</span>
            ${err ? html`<span class="error" role="alert">${err}</span>` : nothing}
          </fieldset>`
        : nothing}
    </div>`;
  }
}

function toText(name: LocalisedName): string {
  if (typeof name === 'string') return name;
  return name.en ?? name.fr ?? name.es ?? '';
}
