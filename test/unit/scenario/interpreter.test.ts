// Scenario interpreter: run order (mode, offline, welcome, scenario), every action and its fall-through, on a fake call port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../../services/storage/index.js';
import { Directory } from '../../../services/directory/index.js';
import { silentLogger } from '../../../services/shared/index.js';
import { exportSiteText, importSiteText } from '../../../services/site/index.js';
import type { RingTarget } from '../../../services/call/index.js';
import {
  NoQueues,
  ScenarioInterpreter,
  directorySource,
  parseAt,
  simulate,
  type CallPort,
  type ConditionEvaluator,
  type PathStep,
  type QueueGateway,
  type RingOutcome,
  type Utterance,
} from '../../../services/scenario/index.js';
import { matchCondition } from '../../../services/scenario/calendar/index.js';
import type { CallerScreen } from '../../../services/scenario/inbox/index.js';

const REALM = 'relais.test';

const SITE = `
version: 1
settings: { language: en, timezone: Europe/Paris }
users:
  - { username: ann, name: Ann }
  - { username: ben, name: Ben }
  - { username: cat, name: Cat }
extensions:
  - { number: "201", user: ann }
  - { number: "202", user: ben }
  - { number: "203", user: cat }
scenarios:
  - name: main
    actions:
      - { type: goto_scenario, scenario: closed, when: { weekdays: [sat, sun] } }
      - { type: play, prompt: welcome, early: true }
      - type: detect_dtmf
        prompt: choose-service
        announce_options: true
        attempts: 2
        timeout: 4
        options:
          - { key: "1", name: { en: Sales, fr: Ventes }, actions: [ { type: call_user, user: ann }, { type: call_user, user: ben }, { type: call_user, user: cat } ] }
          - { key: "2", name: Support, actions: [ { type: collect_digits, variable: callback_number, min_digits: 4, max_digits: 12 }, { type: callback, delay_minutes: 5 } ] }
          - { key: "3", name: Transfer, actions: [ { type: transfer, to: "0612345678" } ] }
          - { key: "4", name: Queue, actions: [ { type: distribute, queue: sales } ] }
          - { key: "9", name: Mail, actions: [ { type: voicemail, mailbox: "201" } ] }
        no_match: [ { type: hangup } ]
      - { type: play, text: Goodbye }
  - name: closed
    actions:
      - { type: play, prompt: closed }
      - { type: voicemail }
queues:
  - { name: sales, short_number: "7000", members: [ann] }
numbers:
  - { did: "+33100000001", scenario: main, users: [ann, ben, cat] }
  - { did: "+33100000002", users: [ann, ben], ring_mode: longest_idle, offline_action: { type: busy } }
  - { did: "+33100000003", mode: forward, forward_to: "0699999999" }
  - { did: "+33100000004", mode: reject, unavailable_action: { type: message, sound: bye } }
  - { did: "+33100000005", users: [cat], offline_action: { type: ringing } }
  - { did: "+33100000006", users: [cat], offline_action: { type: forward, to: "0611111111" }, voicedrop_sound: bye }
sounds:
  - { name: bye, file: bye.wav }
`;

function setup() {
  const store = Store.open(':memory:');
  importSiteText(store, REALM, SITE);
  const dir = new Directory(store.db, REALM);
  return { store, dir };
}

/** A scripted call port: keys per question, who answers, and a log of what the interpreter asked for. */
class FakePort implements CallPort {
  readonly caller = '0600000000';
  readonly log: string[] = [];
  ended = false;
  isAnswered = false;
  keys: string[];
  constructor(
    keys: string[] = [],
    private readonly answersFor: (t: RingTarget) => boolean = () => false,
  ) {
    this.keys = [...keys];
  }
  gone(): boolean {
    return this.ended;
  }
  answered(): boolean {
    return this.isAnswered;
  }
  async answer(): Promise<boolean> {
    if (!this.isAnswered) this.log.push('answer');
    this.isAnswered = true;
    return !this.ended;
  }
  async earlyMedia(): Promise<boolean> {
    this.log.push('183');
    return true;
  }
  async play(items: Utterance[], opts: { bargeIn?: boolean } = {}) {
    this.log.push(`play${opts.bargeIn ? '(barge-in)' : ''} ${items.map((i) => i.prompt ?? i.sound ?? i.text).join(' | ')}`);
    return 'done' as const;
  }
  clearDigits(): void {}
  async readDigits(opts: { max: number; endKey?: string }): Promise<string> {
    let k = this.keys.shift() ?? '';
    if (opts.endKey && k.includes(opts.endKey)) k = k.slice(0, k.indexOf(opts.endKey));
    this.log.push(`keys ${k || '(timeout)'}`);
    return k.slice(0, opts.max);
  }
  async ring(targets: RingTarget[], mode: string, ms: number): Promise<RingOutcome> {
    this.log.push(`ring ${targets.map((t) => ('userId' in t ? `user${t.userId}` : t.number)).join(',')} ${mode} ${ms}`);
    if (targets.some(this.answersFor)) {
      this.ended = true;
      return 'answered';
    }
    return 'no-answer';
  }
  async transfer(to: string, ms: number): Promise<RingOutcome> {
    this.log.push(`transfer ${to} ${ms}`);
    return this.answersFor({ kind: 'external', number: to }) ? 'answered' : 'failed';
  }
  async voicemail(mailbox: string | undefined): Promise<void> {
    this.log.push(`voicemail ${mailbox ?? '(number)'}`);
    this.ended = true;
  }
  async ringingFor(ms: number): Promise<void> {
    this.log.push(`ringing ${ms}`);
  }
  async reject(status: number): Promise<void> {
    this.log.push(`reject ${status}`);
    this.ended = true;
  }
  async hangup(cause: string): Promise<void> {
    this.log.push(`hangup ${cause}`);
    this.ended = true;
  }
}

const paris: ConditionEvaluator = { matches: (c, at) => matchCondition(c, at, { timeZone: 'Europe/Paris' }) };
const MONDAY = new Date('2026-12-07T10:00:00+01:00');
const SATURDAY = new Date('2026-12-12T10:00:00+01:00');

function interpreter(dir: Directory, opts: { online?: number[]; queues?: QueueGateway } = {}) {
  const online = new Set(opts.online ?? dir.users.list().map((u) => u.id));
  return new ScenarioInterpreter({ source: directorySource(dir), conditions: paris, queues: opts.queues ?? new NoQueues(), isOnline: (id) => online.has(id), logger: silentLogger });
}

const types = (path: PathStep[]): string[] => path.map((s) => `${s.type}${s.skipped ? ':skipped' : ''}${s.result !== undefined ? `=${String(s.result)}` : ''}`);

test('menu option 1: early play, barge-in prompt with options announced by TTS, escalation chain of three users', async () => {
  const { store, dir } = setup();
  const cat = dir.users.findByUsername('cat')!;
  const port = new FakePort(['1'], (t) => t.kind === 'user' && t.userId === cat.id);
  const r = await interpreter(dir).run(port, dir.numbers.findByDid('+33100000001')!, { at: () => MONDAY });
  assert.deepEqual(types(r.path), ['scenario', 'goto_scenario:skipped', 'play=done', 'detect_dtmf=key', 'call_user=no-answer', 'call_user=no-answer', 'call_user=answered']);
  assert.equal(r.path[1]!.reason, 'condition did not match');
  assert.deepEqual(r.path[1]!.when, { weekdays: ['sat', 'sun'] }, 'the action fields as the site file writes them');
  assert.equal(r.path[3]!.key, '1');
  assert.equal(r.path[3]!.option, 'Sales');
  assert.equal(r.path[4]!.user, 'ann');
  assert.deepEqual(r.services, ['Sales']);
  assert.equal(port.log[0], '183', 'play early: early media before any answer');
  assert.equal(port.log[1], 'play welcome');
  assert.equal(port.log[2], 'answer', 'the menu answers the call');
  assert.equal(port.log[3], 'play(barge-in) choose-service | For Sales, press 1. | For Support, press 2. | For Transfer, press 3. | For Queue, press 4. | For Mail, press 9.');
  assert.match(port.log[5]!, /^ring user\d+ simultaneous 20000$/, 'call_user rings 20 s by default');
  store.close();
});

test('weekend: goto_scenario runs the closed scenario, which ends in the number\'s voicemail', async () => {
  const { store, dir } = setup();
  const port = new FakePort();
  const r = await interpreter(dir).run(port, dir.numbers.findByDid('+33100000001')!, { at: () => SATURDAY });
  assert.deepEqual(types(r.path), ['scenario', 'goto_scenario', 'scenario', 'play=done', 'voicemail=ended']);
  assert.deepEqual(port.log.slice(-1), ['voicemail (number)']);
  store.close();
});

test('menu: an invalid key then a timeout is no_match, which hangs up; a timeout only is the same', async () => {
  const { store, dir } = setup();
  const port = new FakePort(['7', '']);
  const r = await interpreter(dir).run(port, dir.numbers.findByDid('+33100000001')!, { at: () => MONDAY });
  assert.deepEqual(types(r.path).slice(-2), ['detect_dtmf=no_match', 'hangup']);
  assert.deepEqual(r.path.at(-2)!.invalid, ['7']);
  assert.ok(port.log.includes('play(barge-in) invalid-option'), port.log.join('\n'));
  assert.equal(port.log.at(-1), 'hangup scenario-hangup');
  store.close();
});

test('collect_digits: keys until #, stored as a call variable; callback offered with it; falls off the end after the menu', async () => {
  const { store, dir } = setup();
  const offers: unknown[] = [];
  const queues: QueueGateway = { distribute: async () => 'closed', callback: async (o) => (offers.push(o), 'accepted') };
  // The callback action reads the number back; 1 confirms (services/scenario/callback-dialog.ts).
  const port = new FakePort(['2', '0612345678#', '1']);
  const r = await interpreter(dir, { queues }).run(port, dir.numbers.findByDid('+33100000001')!, { at: () => MONDAY });
  assert.deepEqual(types(r.path).slice(3), ['detect_dtmf=key', 'collect_digits=collected', 'callback=accepted', 'play=done', 'end']);
  assert.equal(r.path[4]!.digits, '0612345678');
  assert.equal(r.path[5]!.number, '0612345678');
  assert.deepEqual(r.variables, { callback_number: '0612345678' });
  assert.deepEqual(offers, [{ queue: undefined, delayMinutes: 5, number: '0612345678', did: '+33100000001', variables: { callback_number: '0612345678' }, services: ['Support'], port }]);
  assert.ok(port.log.includes('play(barge-in) your-number-is | number-0 | number-6 | number-1 | number-2 | number-3 | number-4 | number-5 | number-6 | number-7 | number-8 | confirm-or-reenter'), port.log.join('\n'));
  assert.ok(port.log.includes('play we-will-call-you-back'), port.log.join('\n'));
  assert.equal(r.path.at(-1)!.reason, 'fell off the end of the scenario');
  assert.equal(port.log.at(-1), 'hangup scenario-end');
  store.close();
});

test('collect_digits with too few digits is invalid and stores nothing', async () => {
  const { store, dir } = setup();
  const r = await interpreter(dir).run(new FakePort(['2', '12#']), dir.numbers.findByDid('+33100000001')!, { at: () => MONDAY });
  assert.equal(r.path[4]!.result, 'invalid');
  assert.deepEqual(r.variables, {});
  store.close();
});

test('transfer falls through on failure; distribute falls through when the queue is closed, ends when the queue took the call', async () => {
  const { store, dir } = setup();
  let r = await interpreter(dir).run(new FakePort(['3']), dir.numbers.findByDid('+33100000001')!, { at: () => MONDAY });
  assert.deepEqual(types(r.path).slice(3, 6), ['detect_dtmf=key', 'transfer=failed', 'play=done']);
  assert.equal(r.path[4]!.to, '0612345678');
  r = await interpreter(dir).run(new FakePort(['4']), dir.numbers.findByDid('+33100000001')!, { at: () => MONDAY });
  assert.deepEqual(types(r.path).slice(4, 6), ['distribute=closed', 'play=done']);
  const queues: QueueGateway = { distribute: async () => 'ended', callback: async () => 'accepted' };
  r = await interpreter(dir, { queues }).run(new FakePort(['4']), dir.numbers.findByDid('+33100000001')!, { at: () => MONDAY });
  assert.deepEqual(types(r.path).slice(4), ['distribute=ended']);
  store.close();
});

test('voicemail action: the named mailbox, ends the scenario', async () => {
  const { store, dir } = setup();
  const port = new FakePort(['9']);
  const r = await interpreter(dir).run(port, dir.numbers.findByDid('+33100000001')!, { at: () => MONDAY });
  assert.deepEqual(types(r.path).slice(4), ['voicemail=ended']);
  assert.equal(port.log.at(-1), 'voicemail 201');
  store.close();
});

test('no scenario: the assigned users ring in the number\'s ring mode (generated default), then the offline option (busy = 486)', async () => {
  const { store, dir } = setup();
  const port = new FakePort();
  const r = await interpreter(dir).run(port, dir.numbers.findByDid('+33100000002')!, { at: () => MONDAY });
  assert.deepEqual(types(r.path), ['ring_users=no-answer', 'offline']);
  assert.deepEqual(r.path[0]!.users, ['ann', 'ben']);
  assert.equal(r.path[0]!.ring_mode, 'longest_idle');
  assert.match(port.log[0]!, /^ring user\d+,user\d+ longest_idle 30000$/);
  assert.equal(port.log.at(-1), 'reject 486', 'busy is a 486, never an answered call');
  assert.ok(!port.log.includes('answer'));
  store.close();
});

test('modes and offline options: forward all, reject → unavailable message, nobody online → ringing 30 s / forward', async () => {
  const { store, dir } = setup();
  let port = new FakePort([], (t) => t.kind === 'external');
  let r = await interpreter(dir).run(port, dir.numbers.findByDid('+33100000003')!, { at: () => MONDAY });
  assert.deepEqual(types(r.path), ['forward=answered']);
  assert.deepEqual(port.log, ['transfer 0699999999 30000']);

  port = new FakePort();
  r = await interpreter(dir).run(port, dir.numbers.findByDid('+33100000004')!, { at: () => MONDAY });
  assert.deepEqual(types(r.path), ['unavailable']);
  assert.deepEqual(port.log, ['answer', 'play bye', 'hangup message-played']);

  port = new FakePort();
  r = await interpreter(dir, { online: [] }).run(port, dir.numbers.findByDid('+33100000005')!, { at: () => MONDAY });
  assert.deepEqual(types(r.path), ['offline']);
  assert.equal(r.path[0]!.reason, 'no assigned user online');
  assert.deepEqual(port.log, ['ringing 30000', 'reject 480']);

  port = new FakePort([], () => false);
  r = await interpreter(dir, { online: [] }).run(port, dir.numbers.findByDid('+33100000006')!, { at: () => MONDAY });
  assert.deepEqual(types(r.path), ['offline=failed']);
  assert.deepEqual(port.log, ['transfer 0611111111 30000', 'hangup forward-failed']);
  store.close();
});

test('the caller hanging up mid-scenario ends the path with the reason', async () => {
  const { store, dir } = setup();
  const port = new FakePort(['1']);
  port.ring = async () => {
    port.ended = true;
    return 'gone';
  };
  const r = await interpreter(dir).run(port, dir.numbers.findByDid('+33100000001')!, { at: () => MONDAY });
  assert.deepEqual(types(r.path).slice(3), ['detect_dtmf=key', 'call_user=gone']);
  store.close();
});

test('changes apply to the next call: the scenario is read per call', async () => {
  const { store, dir } = setup();
  const it = interpreter(dir);
  const main = dir.scenarios.findByName('main')!;
  dir.scenarios.save(main.id, [{ type: 'hangup' }]);
  const r = await it.run(new FakePort(), dir.numbers.findByDid('+33100000001')!, { at: () => MONDAY });
  assert.deepEqual(types(r.path), ['scenario', 'hangup']);
  store.close();
});

test('simulator: same interpreter, --online decides who answers, --digits the keys, --no-answer nobody; --at in site time', async () => {
  const { store, dir } = setup();
  const it = interpreter(dir);
  const deps = { dir, interpreter: it, onlineNow: () => true, timeZone: () => 'Europe/Paris', now: () => MONDAY.getTime() };
  let r = await simulate(deps, { number: '+33100000001', from: '0611223344', at: '2026-12-07T10:00', digits: ['1'], online: ['ben'] });
  assert.equal(r.at, '2026-12-07T09:00:00.000Z');
  assert.deepEqual(types(r.path).slice(4), ['call_user=unavailable', 'call_user=answered']);
  assert.equal(r.outcome, 'answered by ben');
  r = await simulate(deps, { number: '+33100000001', at: '2026-12-07T10:00', digits: ['1'], online: ['ann', 'ben', 'cat'], noAnswer: true });
  assert.deepEqual(types(r.path).slice(4), ['call_user=no-answer', 'call_user=no-answer', 'call_user=no-answer', 'play=done', 'end']);
  r = await simulate(deps, { number: '+33100000001', at: '2026-12-12T10:00Z' });
  assert.deepEqual(types(r.path), ['scenario', 'goto_scenario', 'scenario', 'play=done', 'voicemail=ended']);
  assert.equal(r.outcome, 'voicemail');
  await assert.rejects(simulate(deps, { number: '+999' }), /not one of the site's numbers/);
  await assert.rejects(simulate(deps, { number: '+33100000001', online: ['zoe'] }), /zoe/);
  assert.throws(() => parseAt('tomorrow', undefined, 0), /YYYY-MM-DDTHH:MM/);
  store.close();
});

test('voicedrop_sound: a number setting of the site file, stored and exported again', () => {
  const { store, dir } = setup();
  const n = dir.numbers.findByDid('+33100000006')!;
  assert.equal(dir.numbers.voicedropSound(n.id), dir.sounds.findByName('bye')!.id);
  assert.match(exportSiteText(store, REALM), /voicedrop_sound: bye/);
  store.close();
});

test('blocked caller: declined with 603 by default without answering; one sent to a chosen scenario runs it instead of the number\'s', async () => {
  const { store, dir } = setup();
  const blocked = new Map<string, { action: 'decline' } | { action: 'scenario'; scenario: string }>();
  const entry = { id: 1, number: '0600000000', action: 'decline' as const, scenario: null, note: '', createdBy: null, createdAt: 0 };
  const screen: CallerScreen = { screen: (caller) => {
    const v = blocked.get(caller);
    return v ? { ...v, entry } : undefined;
  } };
  const online = new Set(dir.users.list().map((u) => u.id));
  const interp = new ScenarioInterpreter({ source: directorySource(dir), conditions: paris, queues: new NoQueues(), isOnline: (id) => online.has(id), screen, logger: silentLogger });
  const number = dir.numbers.findByDid('+33100000001')!;

  blocked.set('0600000000', { action: 'decline' });
  let port = new FakePort();
  let r = await interp.run(port, number, { at: () => MONDAY });
  assert.deepEqual(types(r.path), ['blocked']);
  assert.equal(r.path[0]!.action, 'decline');
  assert.deepEqual(port.log, ['reject 603'], 'refused without being answered');

  blocked.set('0600000000', { action: 'scenario', scenario: 'closed' });
  port = new FakePort();
  r = await interp.run(port, number, { at: () => MONDAY });
  assert.deepEqual(types(r.path), ['blocked', 'scenario', 'play=done', 'voicemail=ended']);
  assert.equal(r.path[0]!.scenario, 'closed');
  assert.deepEqual(port.log, ['answer', 'play closed', 'voicemail (number)']);

  // A chosen scenario that no longer exists: blocked stays blocked.
  blocked.set('0600000000', { action: 'scenario', scenario: 'gone' });
  port = new FakePort();
  r = await interp.run(port, number, { at: () => MONDAY });
  assert.deepEqual(port.log, ['reject 603']);

  // Another caller is not screened.
  blocked.clear();
  port = new FakePort([''], () => false);
  r = await interp.run(port, number, { at: () => MONDAY });
  assert.equal(r.path[0]!.type, 'scenario');
  store.close();
});
