// Answering behaviours (docs/product.md §2): presets that generate an ordinary scenario the admin can open and edit.
// Nothing runs a behaviour itself: the interpreter runs the scenario it generated (docs/product.md §7 "One mechanism").
import { Checker, LANGUAGES, checkName, formatPath, type Language, type LocalisedName, type MenuOption, type Path, type ScenarioAction } from '../../directory/index.js';
import { RelaisError } from '../../shared/index.js';
import type { CatalogCategory } from './service-catalog.js';

export const BEHAVIOUR_TYPES = ['smart_answering', 'custom_smart_answering', 'forward_only', 'forward_then_smart'] as const;
export type BehaviourType = (typeof BEHAVIOUR_TYPES)[number];

/** What one option of a custom smart answering menu does. */
export type CustomOptionAction = { type: 'voicemail'; mailbox?: string } | { type: 'forward'; to: string };

export interface CustomOption {
  name: LocalisedName;
  action: CustomOptionAction;
}

export interface SmartAnsweringSpec {
  type: 'smart_answering';
  /** Menu languages, in menu order (default fr, en: docs/product.md §2). One language skips the language menu. */
  languages?: Language[];
}

export interface CustomSmartAnsweringSpec {
  type: 'custom_smart_answering';
  languages?: Language[];
  /** The welcome words, spoken by TTS in the caller's language. */
  welcome?: LocalisedName;
  options: CustomOption[];
}

export interface ForwardOnlySpec {
  type: 'forward_only';
  to: string;
}

export interface ForwardThenSmartSpec {
  type: 'forward_then_smart';
  to: string;
  /** Seconds the forward rings before smart answering takes the call (default 15, docs/product.md §2). */
  ring_time?: number;
  /** The smart answering that follows (default: the default smart answering). */
  then?: SmartAnsweringSpec | CustomSmartAnsweringSpec;
}

export type BehaviourSpec = SmartAnsweringSpec | CustomSmartAnsweringSpec | ForwardOnlySpec | ForwardThenSmartSpec;

export const FORWARD_THEN_SMART_RING = 15;
/** What a service option of smart answering does: nothing but pass through (the service is recorded, the scenario goes on). */
export const SERVICE_CHOSEN: ScenarioAction = { type: 'answer' };
const DIAL_RE = /^\+?[0-9*#]{1,32}$/;
const LANGUAGE_NAMES: Record<Language, string> = { fr: 'Français', en: 'English', es: 'Español' };

/** Text of a localised name in one language (the first one given when that language is missing). */
function inLanguage(name: LocalisedName, lang: Language): string {
  if (typeof name === 'string') return name;
  return name[lang] ?? Object.values(name)[0] ?? '';
}

/** The language menu, each option setting the language and running `then(lang)`; one language: no menu. */
function languageStep(languages: readonly Language[], then: (l: Language) => ScenarioAction[]): ScenarioAction[] {
  if (languages.length === 1) return [{ type: 'set_language', language: languages[0]! }, ...then(languages[0]!)];
  const standard = languages.length === 2 && languages[0] === 'fr' && languages[1] === 'en';
  return [
    {
      type: 'detect_dtmf',
      ...(standard ? { prompt: 'language-menu' } : {}),
      ...(standard ? {} : { announce_options: true }),
      timeout: 5,
      attempts: 2,
      options: languages.map((l, i) => ({ key: String(i + 1), name: LANGUAGE_NAMES[l], actions: [{ type: 'set_language', language: l }, ...then(l)] })),
    },
  ];
}

/** docs/product.md §2 default smart answering: language → category → service → callback number → message. */
function smartAnswering(spec: SmartAnsweringSpec, catalog: readonly CatalogCategory[]): ScenarioAction[] {
  const languages = spec.languages ?? ['fr', 'en'];
  const out: ScenarioAction[] = [{ type: 'answer' }, { type: 'play', prompt: 'call-recorded' }, ...languageStep(languages, () => [])];
  if (catalog.length > 0) {
    out.push({
      type: 'detect_dtmf',
      prompt: 'choose-category',
      announce_options: true,
      options: catalog.map(
        (cat, i): MenuOption => ({
          key: String(i + 1),
          name: cat.name,
          actions: [
            {
              type: 'detect_dtmf',
              prompt: 'choose-service',
              announce_options: true,
              // The chosen service is recorded with the call; the scenario goes on after the menus. An option needs an
              // action (an empty one is refused as a mistake): `answer` on the answered call only passes through.
              options: cat.services.map((s, j): MenuOption => ({ key: String(j + 1), name: s.name, actions: [SERVICE_CHOSEN] })),
            },
          ],
        }),
      ),
    });
  }
  out.push({ type: 'collect_digits', prompt: 'enter-phone-number', variable: 'callback_number', min_digits: 4, max_digits: 15, timeout: 10 });
  out.push({ type: 'play', prompt: 'leave-message-after-tone' });
  out.push({ type: 'voicemail', max_length: 180 });
  return out;
}

/** Custom smart answering: languages, welcome words, options by name, each to voicemail or a forward. */
function customSmartAnswering(spec: CustomSmartAnsweringSpec): ScenarioAction[] {
  const languages = spec.languages ?? ['fr', 'en'];
  const welcome = (l: Language): ScenarioAction[] => (spec.welcome === undefined ? [] : [{ type: 'play', text: inLanguage(spec.welcome, l) }]);
  const optionActions = (a: CustomOptionAction): ScenarioAction[] =>
    a.type === 'forward'
      ? // A forward nobody answers (or that fails) leaves a message rather than dropping the caller.
        [{ type: 'transfer', to: a.to, ring_time: 20 }, { type: 'play', prompt: 'leave-message-after-tone' }, { type: 'voicemail', max_length: 180 }]
      : [{ type: 'play', prompt: 'leave-message-after-tone' }, { type: 'voicemail', max_length: 180, ...(a.mailbox ? { mailbox: a.mailbox } : {}) }];
  return [
    { type: 'answer' },
    { type: 'play', prompt: 'call-recorded' },
    ...languageStep(languages, welcome),
    {
      type: 'detect_dtmf',
      announce_options: true,
      timeout: 5,
      attempts: 3,
      options: spec.options.map((o, i): MenuOption => ({ key: String(i + 1), name: o.name, actions: optionActions(o.action) })),
      no_match: [{ type: 'play', prompt: 'leave-message-after-tone' }, { type: 'voicemail', max_length: 180 }],
    },
  ];
}

/** The scenario a behaviour generates. */
export function generateScenario(spec: BehaviourSpec, catalog: readonly CatalogCategory[]): ScenarioAction[] {
  switch (spec.type) {
    case 'smart_answering':
      return smartAnswering(spec, catalog);
    case 'custom_smart_answering':
      return customSmartAnswering(spec);
    case 'forward_only':
      // Every call goes to one number; if it cannot be reached the call ends (nothing else is configured).
      return [{ type: 'transfer', to: spec.to, ring_time: 600 }, { type: 'hangup' }];
    case 'forward_then_smart': {
      const then = spec.then ?? { type: 'smart_answering' };
      // transfer falls through on no answer within ring_time, and at once on busy or failure (docs/product.md §7).
      return [{ type: 'transfer', to: spec.to, ring_time: spec.ring_time ?? FORWARD_THEN_SMART_RING }, ...(then.type === 'smart_answering' ? smartAnswering(then, catalog) : customSmartAnswering(then))];
    }
  }
}

// ------------------------------------------------------------------------------------------ validation (API)

function checkLanguages(c: Checker, v: unknown, p: Path): Language[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0) return c.fail(p, `expected a non-empty list of languages (${LANGUAGES.join(', ')})`);
  const out: Language[] = [];
  v.forEach((l, i) => {
    if (typeof l !== 'string' || !(LANGUAGES as readonly string[]).includes(l)) c.fail([...p, i], `unknown language ${JSON.stringify(l)}`, `expected one of ${LANGUAGES.join(', ')}`);
    else if (out.includes(l as Language)) c.fail([...p, i], `language "${l}" is given twice`);
    else out.push(l as Language);
  });
  if (out.length > 9) c.fail(p, 'at most 9 languages');
  return out;
}

function checkSpec(c: Checker, v: unknown, p: Path, nested: boolean): BehaviourSpec | undefined {
  const o = c.obj(v, p, ['type', 'languages', 'welcome', 'options', 'to', 'ring_time', 'then']);
  if (!o) return undefined;
  const types = nested ? (['smart_answering', 'custom_smart_answering'] as const) : BEHAVIOUR_TYPES;
  const type = c.enm(o, 'type', p, types, true);
  if (!type) return undefined;
  const allowed: Record<BehaviourType, string[]> = {
    smart_answering: ['languages'],
    custom_smart_answering: ['languages', 'welcome', 'options'],
    forward_only: ['to'],
    forward_then_smart: ['to', 'ring_time', 'then'],
  };
  for (const k of Object.keys(o)) if (k !== 'type' && !allowed[type].includes(k)) c.fail([...p, k], `field "${k}" does not apply to behaviour ${type} (known: ${allowed[type].join(', ')})`);
  switch (type) {
    case 'smart_answering': {
      const languages = checkLanguages(c, o.languages, [...p, 'languages']);
      return { type, ...(languages ? { languages } : {}) };
    }
    case 'custom_smart_answering': {
      const languages = checkLanguages(c, o.languages, [...p, 'languages']);
      const welcome = o.welcome === undefined ? undefined : checkName(c, o.welcome, [...p, 'welcome']);
      if (o.options === undefined) c.fail([...p, 'options'], 'missing (required): the menu options');
      const list = c.list(o, 'options', p);
      if (Array.isArray(o.options) && list.length === 0) c.fail([...p, 'options'], 'a menu needs at least one option');
      if (list.length > 9) c.fail([...p, 'options'], 'at most 9 options (one key each)');
      const options: CustomOption[] = [];
      list.forEach((ov, i) => {
        const op = [...p, 'options', i];
        const oo = c.obj(ov, op, ['name', 'action']);
        if (!oo) return;
        const name = checkName(c, oo.name, [...op, 'name']);
        const ao = c.obj(oo.action, [...op, 'action'], ['type', 'mailbox', 'to']);
        if (!ao) return;
        const at = c.enm(ao, 'type', [...op, 'action'], ['voicemail', 'forward'] as const, true);
        let action: CustomOptionAction | undefined;
        if (at === 'forward') {
          if (ao.mailbox !== undefined) c.fail([...op, 'action', 'mailbox'], 'field "mailbox" does not apply to a forward');
          const to = c.str(ao, 'to', [...op, 'action'], { required: true, pattern: DIAL_RE, hint: 'a number to dial' });
          if (to !== undefined) action = { type: 'forward', to };
        } else if (at === 'voicemail') {
          if (ao.to !== undefined) c.fail([...op, 'action', 'to'], 'field "to" does not apply to voicemail');
          const mailbox = c.str(ao, 'mailbox', [...op, 'action'], { pattern: /^[0-9]{2,8}$/, hint: 'an extension number' });
          action = mailbox === undefined ? { type: 'voicemail' } : { type: 'voicemail', mailbox };
        }
        if (name !== undefined && action) options.push({ name, action });
      });
      return { type, ...(languages ? { languages } : {}), ...(welcome !== undefined ? { welcome } : {}), options };
    }
    case 'forward_only': {
      const to = c.str(o, 'to', p, { required: true, pattern: DIAL_RE, hint: 'a number to dial' });
      return to === undefined ? undefined : { type, to };
    }
    case 'forward_then_smart': {
      const to = c.str(o, 'to', p, { required: true, pattern: DIAL_RE, hint: 'a number to dial' });
      const ringTime = c.int(o, 'ring_time', p, { min: 5, max: 600 });
      const then = o.then === undefined ? undefined : checkSpec(c, o.then, [...p, 'then'], true);
      if (to === undefined) return undefined;
      return { type, to, ...(ringTime !== undefined ? { ring_time: ringTime } : {}), ...(then ? { then: then as SmartAnsweringSpec | CustomSmartAnsweringSpec } : {}) };
    }
  }
}

/** Validates a behaviour given from outside (API); throws a 400 naming the first wrong field. */
export function parseBehaviourSpec(v: unknown): BehaviourSpec {
  const c = new Checker();
  const spec = checkSpec(c, v, [], false);
  const i = c.issues[0];
  if (i || !spec) {
    const field = i ? formatPath(i.path) : '';
    throw new RelaisError('behaviour.invalid', `${field ? `${field}: ` : ''}${i?.message ?? 'invalid behaviour'}${i?.hint ? `; ${i.hint}` : ''}`, field ? { field } : {});
  }
  return spec;
}
