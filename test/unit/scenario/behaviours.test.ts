// Answering behaviours generate ordinary scenarios: their shape, and that each passes the site file's validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateScenario, parseBehaviourSpec, type BehaviourSpec } from '../../../services/scenario/behaviours/index.js';
import { validateSite } from '../../../services/site/index.js';
import type { DetectDtmfAction, ScenarioAction } from '../../../services/directory/index.js';
import { RelaisError } from '../../../services/shared/index.js';

const CATALOG = [
  { name: { fr: 'Commercial', en: 'Sales' }, services: [{ name: { fr: 'Devis', en: 'Quote' } }, { name: 'Commande' }] },
  { name: { fr: 'Assistance', en: 'Support' }, services: [{ name: { fr: 'Panne', en: 'Breakdown' } }] },
];

/** The generated scenario inside a site with what it refers to: the site file checker must accept it. */
function assertValid(actions: ScenarioAction[], behaviour: string): void {
  validateSite({
    service_categories: CATALOG,
    extensions: [{ number: '100' }],
    scenarios: [{ name: 'generated', actions }],
    numbers: [{ did: '+33100000000', behaviour, scenario: 'generated', record: true }],
  });
}

test('smart answering: language menu → category → service → callback number → message', () => {
  const a = generateScenario({ type: 'smart_answering' }, CATALOG);
  assert.deepEqual(a.map((x) => x.type), ['answer', 'play', 'detect_dtmf', 'detect_dtmf', 'collect_digits', 'play', 'voicemail']);
  const lang = a[2] as DetectDtmfAction;
  assert.equal(lang.prompt, 'language-menu');
  assert.deepEqual(lang.options.map((o) => [o.key, o.actions[0]]), [['1', { type: 'set_language', language: 'fr' }], ['2', { type: 'set_language', language: 'en' }]]);
  const cats = a[3] as DetectDtmfAction;
  assert.equal(cats.options.length, 2);
  assert.deepEqual(cats.options[0]!.name, { fr: 'Commercial', en: 'Sales' });
  const services = cats.options[0]!.actions[0] as DetectDtmfAction;
  assert.deepEqual(services.options.map((o) => [o.key, o.name, o.actions]), [['1', { fr: 'Devis', en: 'Quote' }, [{ type: 'answer' }]], ['2', 'Commande', [{ type: 'answer' }]]]);
  assert.deepEqual(a[4], { type: 'collect_digits', prompt: 'enter-phone-number', variable: 'callback_number', min_digits: 4, max_digits: 15, timeout: 10 });
  assertValid(a, 'smart_answering');
  // One language: no language menu; an empty catalog: no category menu.
  const en = generateScenario({ type: 'smart_answering', languages: ['en'] }, []);
  assert.deepEqual(en.map((x) => x.type), ['answer', 'play', 'set_language', 'collect_digits', 'play', 'voicemail']);
  assertValid(en, 'smart_answering');
});

test('custom smart answering: languages, welcome words, named options to voicemail or a forward', () => {
  const spec: BehaviourSpec = {
    type: 'custom_smart_answering',
    languages: ['fr', 'en', 'es'],
    welcome: { fr: 'Bienvenue chez Dupont', en: 'Welcome to Dupont', es: 'Bienvenido' },
    options: [
      { name: { fr: 'la comptabilité', en: 'accounting' }, action: { type: 'voicemail', mailbox: '100' } },
      { name: 'Paul', action: { type: 'forward', to: '+33612345678' } },
    ],
  };
  const a = generateScenario(spec, []);
  const lang = a[2] as DetectDtmfAction;
  assert.equal(lang.announce_options, true);
  assert.deepEqual(lang.options.map((o) => o.actions), [
    [{ type: 'set_language', language: 'fr' }, { type: 'play', text: 'Bienvenue chez Dupont' }],
    [{ type: 'set_language', language: 'en' }, { type: 'play', text: 'Welcome to Dupont' }],
    [{ type: 'set_language', language: 'es' }, { type: 'play', text: 'Bienvenido' }],
  ]);
  const menu = a[3] as DetectDtmfAction;
  assert.equal(menu.announce_options, true);
  assert.deepEqual(menu.options[0]!.actions.at(-1), { type: 'voicemail', max_length: 180, mailbox: '100' });
  assert.deepEqual(menu.options[1]!.actions[0], { type: 'transfer', to: '+33612345678', ring_time: 20 });
  assert.equal(menu.options[1]!.actions.at(-1)!.type, 'voicemail', 'an unanswered forward leaves a message');
  assertValid(a, 'custom_smart_answering');
});

test('forward only, and forward then smart answering after 15 s (configurable)', () => {
  const fwd = generateScenario({ type: 'forward_only', to: '0612345678' }, CATALOG);
  assert.deepEqual(fwd, [{ type: 'transfer', to: '0612345678', ring_time: 600 }, { type: 'hangup' }]);
  assertValid(fwd, 'forward_only');
  const then = generateScenario({ type: 'forward_then_smart', to: '0612345678' }, CATALOG);
  assert.deepEqual(then[0], { type: 'transfer', to: '0612345678', ring_time: 15 });
  assert.deepEqual(then.slice(1), generateScenario({ type: 'smart_answering' }, CATALOG));
  assertValid(then, 'forward_then_smart');
  const t30 = generateScenario({ type: 'forward_then_smart', to: '0612345678', ring_time: 30, then: { type: 'custom_smart_answering', options: [{ name: 'x', action: { type: 'voicemail' } }] } }, CATALOG);
  assert.deepEqual(t30[0], { type: 'transfer', to: '0612345678', ring_time: 30 });
  assertValid(t30, 'forward_then_smart');
});

test('behaviour specs from the API are checked, errors name the field', () => {
  const field = (v: unknown): string | undefined => {
    try {
      parseBehaviourSpec(v);
    } catch (e) {
      assert.ok(e instanceof RelaisError);
      return `${e.field}: ${e.message}`;
    }
    return undefined;
  };
  assert.equal(field({ type: 'forward_only', to: '0612' }), undefined);
  assert.match(field({ type: 'forward_only' })!, /^to: to: missing/);
  assert.match(field({ type: 'nope' })!, /^type: /);
  assert.match(field({ type: 'forward_then_smart', to: '1', ring_time: 2 })!, /^ring_time: .*below the minimum 5/);
  assert.match(field({ type: 'custom_smart_answering', options: [{ name: 'a', action: { type: 'forward' } }] })!, /^options\[0\]\.action\.to: /);
  assert.match(field({ type: 'custom_smart_answering', options: [] })!, /^options: .*at least one option/);
  assert.match(field({ type: 'smart_answering', languages: ['de'] })!, /^languages\[0\]: languages\[0\]: unknown language/);
  assert.match(field({ type: 'smart_answering', to: '1' })!, /^to: to: field "to" does not apply/);
  assert.match(field({ type: 'forward_then_smart', to: '1', then: { type: 'forward_only', to: '2' } })!, /^then\.type: /);
});
