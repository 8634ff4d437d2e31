// The scenario language (docs/product.md §1, §7): actions stored as JSON in scenarios.actions, with their validation.
// The stored form is the site-file form (snake_case keys), so a scenario reads the same in YAML, JSON and SQL.
import { Checker, isObj, type Obj, type Path } from './checker.js';
import { isRealDate, matchCondition, neverMatches, weekdayOf } from '../scenario/calendar/index.js';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
export const LANGUAGES = ['fr', 'en', 'es'] as const;
export type Language = (typeof LANGUAGES)[number];

/**
 * A calendar condition; every field present must match (AND); an empty condition always matches.
 * dates: any of these days (YYYY-MM-DD); period: from..to inclusive (YYYY-MM-DD or YYYY-MM-DDTHH:MM);
 * weekdays: any of these days; times: any of these ranges HH:MM-HH:MM (end exclusive; 22:00-06:00 wraps midnight).
 */
export interface Condition {
  dates?: string[];
  period?: { from: string; to: string };
  weekdays?: Weekday[];
  times?: string[];
  /** true: only on a holiday of the site's calendar; false: only on other days (docs/scenarios.md). */
  holiday?: boolean;
}

interface ActionBase {
  /** The action runs only when the condition matches; otherwise the scenario goes on to the next action. */
  when?: Condition;
}

/** What to say: exactly one of a sound of the library, a system prompt key, or text spoken by TTS. */
export interface SoundRef {
  sound?: string;
  prompt?: string;
  text?: string;
}

export interface AnswerAction extends ActionBase { type: 'answer' }
export interface PlayAction extends ActionBase, SoundRef { type: 'play'; /** before answering (183 early media) */ early?: boolean }
export interface DistributeAction extends ActionBase { type: 'distribute'; queue: string }
export interface CallUserAction extends ActionBase { type: 'call_user'; user: string; ring_time?: number }
export interface TransferAction extends ActionBase { type: 'transfer'; to: string; ring_time?: number }
/** A name, or names per language (spoken by TTS in the caller's language). */
export type LocalisedName = string | Partial<Record<Language, string>>;
export interface MenuOption {
  key: string;
  /** Spoken "to reach NAME press KEY" when announce_options; recorded as the call's service. */
  name: LocalisedName;
  actions: ScenarioAction[];
}
export interface DetectDtmfAction extends ActionBase, SoundRef {
  type: 'detect_dtmf';
  announce_options?: boolean;
  timeout?: number;
  attempts?: number;
  options: MenuOption[];
  /** Run when no valid key came after every attempt; without it the scenario goes on to the next action. */
  no_match?: ScenarioAction[];
}
export interface CollectDigitsAction extends ActionBase, SoundRef {
  type: 'collect_digits';
  /** Where the digits are kept in the call's IVR data (e.g. callback_number). */
  variable: string;
  min_digits?: number;
  max_digits?: number;
  timeout?: number;
}
export interface VoicemailAction extends ActionBase {
  type: 'voicemail';
  /** Extension number whose mailbox gets the message; default the dialled number's mailbox. */
  mailbox?: string;
  greeting?: string;
  max_length?: number;
}
export interface HangupAction extends ActionBase { type: 'hangup' }
export interface GotoScenarioAction extends ActionBase { type: 'goto_scenario'; scenario: string }
export interface SetLanguageAction extends ActionBase { type: 'set_language'; language: Language }
export interface CallbackAction extends ActionBase { type: 'callback'; delay_minutes?: number; queue?: string }

export type ScenarioAction =
  | AnswerAction
  | PlayAction
  | DistributeAction
  | CallUserAction
  | TransferAction
  | DetectDtmfAction
  | CollectDigitsAction
  | VoicemailAction
  | HangupAction
  | GotoScenarioAction
  | SetLanguageAction
  | CallbackAction;

export const ACTION_TYPES = [
  'answer',
  'play',
  'distribute',
  'call_user',
  'transfer',
  'detect_dtmf',
  'collect_digits',
  'voicemail',
  'hangup',
  'goto_scenario',
  'set_language',
  'callback',
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

/** Names an action list refers to, so the caller can check them against the site. */
export interface ActionRefs {
  sounds: { name: string; path: Path }[];
  queues: { name: string; path: Path }[];
  users: { name: string; path: Path }[];
  scenarios: { name: string; path: Path }[];
  extensions: { name: string; path: Path }[];
}

export function emptyRefs(): ActionRefs {
  return { sounds: [], queues: [], users: [], scenarios: [], extensions: [] };
}

const DATE_RE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const DATETIME_RE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d)?$/;
const TIME_RANGE_RE = /^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$/;
const DIAL_RE = /^\+?[0-9*#]{1,32}$/;
const KEY_RE = /^[0-9*#]$/;

export function checkCondition(c: Checker, v: unknown, path: Path): Condition | undefined {
  const o = c.obj(v, path, ['dates', 'period', 'weekdays', 'times', 'holiday']);
  if (!o) return undefined;
  const before = c.issues.length;
  const out: Condition = {};
  const dates = c.strList(o, 'dates', path, { pattern: DATE_RE, hint: 'a date is YYYY-MM-DD' });
  if (dates) {
    dates.forEach((d, i) => {
      if (!isRealDate(d)) c.fail([...path, 'dates', i], `${d} is not a day of the calendar`);
    });
    out.dates = dates;
  }
  if (o.period !== undefined) {
    const p = c.obj(o.period, [...path, 'period'], ['from', 'to']);
    if (p) {
      const hint = 'YYYY-MM-DD or YYYY-MM-DDTHH:MM';
      const from = c.str(p, 'from', [...path, 'period'], { required: true, pattern: DATETIME_RE, hint });
      const to = c.str(p, 'to', [...path, 'period'], { required: true, pattern: DATETIME_RE, hint });
      if (from && !isRealDate(from.slice(0, 10))) c.fail([...path, 'period', 'from'], `${from.slice(0, 10)} is not a day of the calendar`);
      else if (to && !isRealDate(to.slice(0, 10))) c.fail([...path, 'period', 'to'], `${to.slice(0, 10)} is not a day of the calendar`);
      else if (from && to) out.period = { from, to };
    }
  }
  const wd = o.weekdays;
  if (wd !== undefined) {
    if (!Array.isArray(wd)) c.fail([...path, 'weekdays'], 'expected a list of days (mon, tue, wed, thu, fri, sat, sun)');
    else {
      const days: Weekday[] = [];
      wd.forEach((d, i) => {
        if (typeof d !== 'string' || !(WEEKDAYS as readonly string[]).includes(d)) {
          c.fail([...path, 'weekdays', i], `unknown value ${JSON.stringify(d)}`, `expected one of ${WEEKDAYS.join(', ')}`);
        } else days.push(d as Weekday);
      });
      out.weekdays = days;
    }
  }
  const times = c.strList(o, 'times', path, { pattern: TIME_RANGE_RE, hint: 'a time range is HH:MM-HH:MM, e.g. 09:00-12:30' });
  if (times) out.times = times;
  const holiday = c.bool(o, 'holiday', path);
  if (holiday !== undefined) out.holiday = holiday;
  // A condition that can never match is a mistake (docs/product.md §7): refuse it, naming the field.
  if (c.issues.length === before) {
    const never = neverMatches(out);
    if (never) c.fail([...path, never.field], `this condition can never match: ${never.reason}`);
    else if (out.dates && out.weekdays && !out.dates.some((d) => out.weekdays!.includes(weekdayOf(d)))) {
      c.fail([...path, 'weekdays'], 'this condition can never match: none of its dates falls on one of its weekdays');
    }
  }
  return out;
}

function checkSoundRef(c: Checker, o: Obj, path: Path, refs: ActionRefs, required: boolean): SoundRef {
  const out: SoundRef = {};
  const sound = c.str(o, 'sound', path);
  const prompt = c.str(o, 'prompt', path, { pattern: /^[a-z0-9_.-]+$/, hint: 'a prompt key is lower-case letters, digits, "_", "-", "."' });
  const text = c.str(o, 'text', path);
  const n = [sound, prompt, text].filter((x) => x !== undefined).length;
  if (n > 1) c.fail(path, 'give only one of sound, prompt or text');
  if (n === 0 && required) c.fail(path, 'missing what to play: one of sound, prompt or text');
  if (sound !== undefined) {
    out.sound = sound;
    refs.sounds.push({ name: sound, path: [...path, 'sound'] });
  }
  if (prompt !== undefined) out.prompt = prompt;
  if (text !== undefined) out.text = text;
  return out;
}

/** A name, or names per language (fr, en, es), as menu options and services have. */
export function checkName(c: Checker, v: unknown, p: Path): LocalisedName | undefined {
  if (isObj(v)) {
    const o = c.obj(v, p, LANGUAGES);
    if (!o) return undefined;
    const out: Partial<Record<Language, string>> = {};
    for (const l of LANGUAGES) {
      const s = c.str(o, l, p);
      if (s !== undefined) out[l] = s;
    }
    if (Object.keys(out).length === 0) return c.fail(p, 'give the name in at least one language (fr, en, es)');
    return out;
  }
  return c.strValue(v, p, { required: true });
}

const COMMON = ['type', 'when'];
const SOUND = ['sound', 'prompt', 'text'];

/** Validates one action list; returns the normalised list (unknown keys dropped only when reported). */
export function checkActions(c: Checker, v: unknown, path: Path, refs: ActionRefs, depth = 0): ScenarioAction[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    c.fail(path, 'expected a list of actions');
    return [];
  }
  if (depth > 8) {
    c.fail(path, 'menus are nested more than 8 deep');
    return [];
  }
  const out: ScenarioAction[] = [];
  v.forEach((raw, i) => {
    const p = [...path, i];
    const a = checkAction(c, raw, p, refs, depth);
    if (a) out.push(a);
  });
  return out;
}

function checkAction(c: Checker, raw: unknown, p: Path, refs: ActionRefs, depth: number): ScenarioAction | undefined {
  const first = c.obj(raw, p, [...COMMON, ...ALL_KEYS]);
  if (!first) return undefined;
  const type = c.enm(first, 'type', p, ACTION_TYPES, true);
  if (!type) return undefined;
  // Re-check the keys for this action type (the first pass only rejected keys no action has).
  const keys = [...COMMON, ...ACTION_FIELDS[type]];
  for (const k of Object.keys(first)) {
    if (!keys.includes(k) && ALL_KEYS.includes(k)) c.fail([...p, k], `field "${k}" does not apply to a ${type} action (known: ${keys.join(', ')})`);
  }
  const o = first;
  const base: ActionBase = {};
  if (o.when !== undefined) {
    const w = checkCondition(c, o.when, [...p, 'when']);
    if (w) base.when = w;
  }
  const ringTime = (): number | undefined => c.int(o, 'ring_time', p, { min: 5, max: 600 });
  switch (type) {
    case 'answer':
    case 'hangup':
      return { type, ...base };
    case 'play': {
      const early = c.bool(o, 'early', p);
      return { type, ...base, ...checkSoundRef(c, o, p, refs, true), ...(early !== undefined ? { early } : {}) };
    }
    case 'distribute': {
      const queue = c.str(o, 'queue', p, { required: true });
      if (queue === undefined) return undefined;
      refs.queues.push({ name: queue, path: [...p, 'queue'] });
      return { type, ...base, queue };
    }
    case 'call_user': {
      const user = c.str(o, 'user', p, { required: true });
      const rt = ringTime();
      if (user === undefined) return undefined;
      refs.users.push({ name: user, path: [...p, 'user'] });
      return { type, ...base, user, ...(rt !== undefined ? { ring_time: rt } : {}) };
    }
    case 'transfer': {
      const to = c.str(o, 'to', p, { required: true, pattern: DIAL_RE, hint: 'a number to dial: digits, *, #, optional leading +' });
      const rt = ringTime();
      if (to === undefined) return undefined;
      return { type, ...base, to, ...(rt !== undefined ? { ring_time: rt } : {}) };
    }
    case 'detect_dtmf': {
      const snd = checkSoundRef(c, o, p, refs, false);
      const announce = c.bool(o, 'announce_options', p);
      const timeout = c.int(o, 'timeout', p, { min: 1, max: 60 });
      const attempts = c.int(o, 'attempts', p, { min: 1, max: 10 });
      const options: MenuOption[] = [];
      const seen = new Set<string>();
      const list = c.list(o, 'options', p);
      if (list.length === 0 && o.options !== undefined && Array.isArray(o.options)) c.fail([...p, 'options'], 'a menu needs at least one option');
      if (o.options === undefined) c.fail([...p, 'options'], 'missing (required): the menu options');
      list.forEach((rawOpt, j) => {
        const op = [...p, 'options', j];
        const oo = c.obj(rawOpt, op, ['key', 'name', 'actions']);
        if (!oo) return;
        const key = c.str(oo, 'key', op, { required: true, pattern: KEY_RE, hint: 'one key: 0-9, * or #' });
        const name = checkName(c, oo.name, [...op, 'name']);
        if (oo.actions === undefined) c.fail([...op, 'actions'], 'missing (required): what happens for this key');
        // An option that does nothing is a mistake (docs/product.md §7): say what the key does, even if only `answer`.
        else if (oo.actions === null || (Array.isArray(oo.actions) && oo.actions.length === 0)) c.fail([...op, 'actions'], 'a menu option needs at least one action (what happens for this key)');
        const actions = checkActions(c, oo.actions, [...op, 'actions'], refs, depth + 1);
        if (key !== undefined) {
          if (seen.has(key)) c.fail([...op, 'key'], `key "${key}" is used twice in this menu`);
          seen.add(key);
        }
        if (key !== undefined && name !== undefined) options.push({ key, name, actions });
      });
      const out = { type, ...base, ...snd } as DetectDtmfAction;
      if (announce !== undefined) out.announce_options = announce;
      if (timeout !== undefined) out.timeout = timeout;
      if (attempts !== undefined) out.attempts = attempts;
      out.options = options;
      if (o.no_match !== undefined) out.no_match = checkActions(c, o.no_match, [...p, 'no_match'], refs, depth + 1);
      return out;
    }
    case 'collect_digits': {
      const snd = checkSoundRef(c, o, p, refs, false);
      const variable = c.str(o, 'variable', p, { required: true, pattern: /^[a-z][a-z0-9_]{0,31}$/, hint: 'lower-case letters, digits and _' });
      const min = c.int(o, 'min_digits', p, { min: 1, max: 32 });
      const max = c.int(o, 'max_digits', p, { min: 1, max: 32 });
      const timeout = c.int(o, 'timeout', p, { min: 1, max: 60 });
      if (min !== undefined && max !== undefined && min > max) c.fail([...p, 'min_digits'], `min_digits ${min} is above max_digits ${max}`);
      if (variable === undefined) return undefined;
      const out: CollectDigitsAction = { type, ...base, ...snd, variable };
      if (min !== undefined) out.min_digits = min;
      if (max !== undefined) out.max_digits = max;
      if (timeout !== undefined) out.timeout = timeout;
      return out;
    }
    case 'voicemail': {
      const mailbox = c.str(o, 'mailbox', p, { pattern: /^[0-9]{2,8}$/, hint: 'an extension number' });
      const greeting = c.str(o, 'greeting', p);
      const maxLength = c.int(o, 'max_length', p, { min: 5, max: 3600 });
      const out: VoicemailAction = { type, ...base };
      if (mailbox !== undefined) {
        out.mailbox = mailbox;
        refs.extensions.push({ name: mailbox, path: [...p, 'mailbox'] });
      }
      if (greeting !== undefined) {
        out.greeting = greeting;
        refs.sounds.push({ name: greeting, path: [...p, 'greeting'] });
      }
      if (maxLength !== undefined) out.max_length = maxLength;
      return out;
    }
    case 'goto_scenario': {
      const scenario = c.str(o, 'scenario', p, { required: true });
      if (scenario === undefined) return undefined;
      refs.scenarios.push({ name: scenario, path: [...p, 'scenario'] });
      return { type, ...base, scenario };
    }
    case 'set_language': {
      const language = c.enm(o, 'language', p, LANGUAGES, true);
      if (language === undefined) return undefined;
      return { type, ...base, language };
    }
    case 'callback': {
      const delay = c.int(o, 'delay_minutes', p, { min: 0, max: 10080 });
      const queue = c.str(o, 'queue', p);
      const out: CallbackAction = { type, ...base };
      if (delay !== undefined) out.delay_minutes = delay;
      if (queue !== undefined) {
        out.queue = queue;
        refs.queues.push({ name: queue, path: [...p, 'queue'] });
      }
      return out;
    }
  }
}

/** The fields of each action type besides type and when. */
export const ACTION_FIELDS: Record<ActionType, readonly string[]> = {
  answer: [],
  hangup: [],
  play: [...SOUND, 'early'],
  distribute: ['queue'],
  call_user: ['user', 'ring_time'],
  transfer: ['to', 'ring_time'],
  detect_dtmf: [...SOUND, 'announce_options', 'timeout', 'attempts', 'options', 'no_match'],
  collect_digits: [...SOUND, 'variable', 'min_digits', 'max_digits', 'timeout'],
  voicemail: ['mailbox', 'greeting', 'max_length'],
  goto_scenario: ['scenario'],
  set_language: ['language'],
  callback: ['delay_minutes', 'queue'],
};
const ALL_KEYS = [...new Set(Object.values(ACTION_FIELDS).flat())];

/** Validates an action list standing alone (API, editor); throws nothing, returns issues. */
export function validateActions(v: unknown): { actions: ScenarioAction[]; issues: Checker['issues']; refs: ActionRefs } {
  const c = new Checker();
  const refs = emptyRefs();
  const actions = checkActions(c, v, [], refs);
  return { actions, issues: c.issues, refs };
}

export { isTimeZone } from '../scenario/calendar/index.js';

/**
 * Does the condition match at this instant, on the wall clock of timeZone (the process's own zone without one)?
 * Without a holiday calendar no day is a holiday; the interpreter and queues use the site's ConditionEvaluator
 * (services/scenario/calendar), which adds the holidays and the manual override.
 */
export function conditionMatches(cond: Condition | undefined, at: Date, timeZone?: string): boolean {
  return matchCondition(cond, at, { timeZone });
}
