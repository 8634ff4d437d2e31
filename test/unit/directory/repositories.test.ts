// Directory repositories: numbers, trunks and routes, queues and members, scenarios, sounds, phones, settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../../services/storage/index.js';
import { Directory, queueState, routeMatches, applyRoute, conditionMatches, isTimeZone, validateActions, normaliseMac } from '../../../services/directory/index.js';

function dir(): { store: Store; d: Directory } {
  const store = Store.open(':memory:');
  let t = 1000;
  return { store, d: new Directory(store.db, 'relais.local', () => t++) };
}

test('numbers: defaults, assigned users (new number → all users, new user → all numbers), validation', () => {
  const { store, d } = dir();
  try {
    const a = d.users.create({ username: 'a' });
    const n = d.numbers.create({ did: '+33123456789', name: 'Main' });
    assert.deepEqual(n.userIds, [a.id]);
    assert.equal(n.mode, 'receive');
    assert.deepEqual(n.offlineAction, { type: 'voicemail' });
    assert.deepEqual(n.unavailableAction, { type: 'busy' });
    const b = d.users.create({ username: 'b' });
    assert.deepEqual(d.numbers.require(n.id).userIds, [a.id, b.id]);
    const n2 = d.numbers.create({ did: '0123', userIds: [b.id] });
    assert.deepEqual(n2.userIds, [b.id]);
    const s = d.scenarios.create('main', [{ type: 'hangup' }]);
    const u = d.numbers.update(n.id, { scenarioId: s.id, record: true, offlineAction: { type: 'forward', to: '0600000000' }, userIds: [a.id] });
    assert.equal(u.scenarioId, s.id);
    assert.equal(u.record, true);
    assert.deepEqual(u.offlineAction, { type: 'forward', to: '0600000000' });
    assert.deepEqual(u.userIds, [a.id]);
    assert.equal(d.numbers.findByDid('0123')?.id, n2.id);
    assert.throws(() => d.numbers.create({ did: 'abc' }), /must be digits/);
    assert.throws(() => d.numbers.create({ did: '+33123456789' }), /already exists/);
    assert.throws(() => d.numbers.update(n.id, { mode: 'forward' }), /needs a number to forward to/);
    assert.throws(() => d.numbers.update(n.id, { unavailableAction: { type: 'forward', to: '1' } }), /cannot be forwarded/);
    d.scenarios.delete(s.id);
    assert.equal(d.numbers.require(n.id).scenarioId, null);
  } finally {
    store.close();
  }
});

test('trunks and outbound routes: pattern matching, priority, strip/prepend', () => {
  const { store, d } = dir();
  try {
    const t = d.trunks.create({ name: 'ovh', host: 'sip.ovh.net', username: '0033999', secret: 'pw123456' });
    assert.equal(t.register, true);
    assert.equal(t.port, 5060);
    const peer = d.trunks.create({ name: 'peer', host: '10.0.0.9', register: false, allowedIps: ['10.0.0.9'] });
    assert.deepEqual(peer.allowedIps, ['10.0.0.9']);
    assert.throws(() => d.trunks.create({ name: 'x', host: 'h' }), /needs a username and a secret/);
    assert.throws(() => d.trunks.create({ name: 'ovh', host: 'h', register: false }), /already exists/);
    assert.throws(() => d.trunks.create({ name: 'y', host: 'bad host', register: false }), /not a host name/);
    d.trunks.createRoute({ name: 'intl', pattern: '00.', trunkId: peer.id, priority: 1 });
    d.trunks.createRoute({ name: 'national', pattern: '0ZXXXXXXXX', trunkId: t.id, priority: 2 });
    d.trunks.createRoute({ name: 'emergency', pattern: '112', trunkId: t.id, priority: 0 });
    assert.deepEqual(d.trunks.routes().map((r) => r.name), ['emergency', 'intl', 'national']);
    assert.throws(() => d.trunks.createRoute({ name: 'bad', pattern: '0?', trunkId: t.id }), /route pattern/);
    assert.ok(routeMatches('0ZXXXXXXXX', '0612345678'));
    assert.ok(!routeMatches('0ZXXXXXXXX', '0012345678'));
    assert.ok(!routeMatches('0ZXXXXXXXX', '061234567'));
    assert.ok(routeMatches('00.', '0044123'));
    assert.ok(!routeMatches('00.', '00'));
    assert.equal(applyRoute({ strip: 1, prepend: '+33' }, '0612345678'), '+33612345678');
    assert.equal(d.trunks.routeFor('0612345678')?.trunk.name, 'ovh');
    assert.equal(d.trunks.routeFor('0044123')?.trunk.name, 'peer');
    d.trunks.update(peer.id, { enabled: false });
    assert.equal(d.trunks.routeFor('0044123'), undefined);
    d.trunks.delete(t.id);
    assert.deepEqual(d.trunks.routes().map((r) => r.name), ['intl']);
  } finally {
    store.close();
  }
});

test('queues: docs/product.md §7 defaults, members keep state across setMembers, login/pause/last call', () => {
  const { store, d } = dir();
  try {
    const q = d.queues.create({ name: 'Sales', shortNumber: '99900' });
    assert.equal(q.strategy, 'as_listed');
    assert.equal(q.ringTime, 20);
    assert.equal(q.maxWait, 300);
    assert.equal(q.wrapUp, 10);
    assert.deepEqual(q.timeoutAction, { type: 'hangup' });
    assert.equal(q.mohSoundId, null);
    assert.equal(q.announcePosition, false);
    const [a, b, c] = ['a', 'b', 'c'].map((u) => d.users.create({ username: u }));
    d.queues.setMembers(q.id, [{ userId: a!.id }, { userId: b!.id }]);
    d.queues.setLoggedIn(q.id, a!.id, false);
    d.queues.markCalled(q.id, b!.id, 42);
    const m = d.queues.setMembers(q.id, [{ userId: c!.id }, { userId: b!.id }, { userId: a!.id }]);
    assert.deepEqual(m.map((x) => [x.userId, x.position, x.loggedIn, x.lastCallAt]), [
      [c!.id, 0, true, null],
      [b!.id, 1, true, 42],
      [a!.id, 2, false, null],
    ]);
    d.queues.setPaused(q.id, b!.id, true);
    assert.equal(d.queues.members(q.id)[1]!.paused, true);
    d.queues.removeMember(q.id, c!.id);
    assert.deepEqual(d.queues.members(q.id).map((x) => x.userId), [b!.id, a!.id]);
    assert.throws(() => d.queues.setLoggedIn(q.id, c!.id, true), /not a participant/);
    assert.equal(d.queues.findByShortNumber('99900')?.id, q.id);
    assert.throws(() => d.queues.create({ name: 'Other', shortNumber: '99900' }), /already used/);
    assert.throws(() => d.queues.create({ name: 'X', shortNumber: '1', strategy: 'roundrobin' as 'random' }), /short number/);
    assert.throws(() => d.queues.update(q.id, { strategy: 'roundrobin' as 'random' }), /strategy "roundrobin"/);
    const u = d.queues.update(q.id, { openingHours: [{ weekdays: ['mon'], times: ['09:00-18:00'] }], closureAction: { type: 'voicemail' } });
    assert.deepEqual(u.openingHours, [{ weekdays: ['mon'], times: ['09:00-18:00'] }]);
    assert.deepEqual(u.closureAction, { type: 'voicemail' });
    const monday10 = new Date(Date.UTC(2026, 10, 23, 9, 0)); // Monday 10:00 in Paris
    const sunday = new Date(Date.UTC(2026, 10, 22, 9, 0));
    assert.equal(queueState(u, monday10, 'Europe/Paris'), 'open');
    assert.equal(queueState(u, sunday, 'Europe/Paris'), 'closed');
    assert.equal(queueState({ ...u, closed: true }, monday10, 'Europe/Paris'), 'closed');
    assert.equal(queueState({ ...u, exceptionalClosure: true }, sunday, 'Europe/Paris'), 'exceptional_closure');
    assert.equal(queueState({ ...u, openingHours: null }, sunday), 'open');
  } finally {
    store.close();
  }
});

test('scenarios: each save bumps version and writes scenario_versions; identical save is a no-op; revert', () => {
  const { store, d } = dir();
  try {
    const s = d.scenarios.create('ivr', [{ type: 'answer' }, { type: 'hangup' }], null);
    assert.equal(s.version, 1);
    const s2 = d.scenarios.save(s.id, [{ type: 'answer' }, { type: 'play', prompt: 'welcome' }, { type: 'hangup' }]);
    assert.equal(s2.version, 2);
    assert.equal(d.scenarios.save(s.id, s2.actions).version, 2);
    assert.deepEqual(d.scenarios.versions(s.id).map((v) => v.version), [1, 2]);
    const s3 = d.scenarios.revert(s.id, 1);
    assert.equal(s3.version, 3);
    assert.deepEqual(s3.actions, [{ type: 'answer' }, { type: 'hangup' }]);
    assert.throws(() => d.scenarios.save(s.id, [{ type: 'answer' }, { type: 'dance' }]), /actions\[1\]\.type: unknown value "dance"/);
    assert.throws(() => d.scenarios.create('ivr', []), /already exists/);
    assert.equal(d.scenarios.require(s.id).version, 3);
  } finally {
    store.close();
  }
});

test('scenario model: validation of every action and calendar conditions', () => {
  const good = [
    { type: 'play', sound: 'welcome', early: true },
    { type: 'answer' },
    { type: 'set_language', language: 'fr' },
    { type: 'transfer', to: '0612345678', when: { weekdays: ['sat', 'sun'] } },
    { type: 'transfer', to: '0612345678', when: { dates: ['2026-12-25'], period: { from: '2026-12-24', to: '2027-01-02T08:00' }, times: ['22:00-06:00'] } },
    {
      type: 'detect_dtmf', prompt: 'menu', announce_options: true, timeout: 5, attempts: 3,
      options: [
        { key: '1', name: 'Orders', actions: [{ type: 'distribute', queue: 'Sales' }, { type: 'voicemail' }] },
        { key: '2', name: 'Delivery', actions: [{ type: 'call_user', user: 'bob', ring_time: 15 }, { type: 'callback', delay_minutes: 0, queue: 'Sales' }] },
      ],
      no_match: [{ type: 'goto_scenario', scenario: 'other' }],
    },
    { type: 'collect_digits', text: 'key your number', variable: 'callback_number', min_digits: 4, max_digits: 15 },
    { type: 'voicemail', mailbox: '100', greeting: 'vm', max_length: 120 },
    { type: 'hangup' },
  ];
  const r = validateActions(good);
  assert.deepEqual(r.issues, []);
  assert.deepEqual(r.actions, good);
  assert.deepEqual(r.refs.queues.map((q) => q.name), ['Sales', 'Sales']);
  assert.deepEqual(r.refs.sounds.map((q) => q.name), ['welcome', 'vm']);
  assert.deepEqual(r.refs.users.map((q) => q.name), ['bob']);
  assert.deepEqual(r.refs.extensions.map((q) => q.name), ['100']);
  assert.deepEqual(r.refs.scenarios.map((q) => q.name), ['other']);

  const bad = validateActions([
    { type: 'play' },
    { type: 'distribute' },
    { type: 'transfer', to: 'abc', when: { weekdays: ['monday'], times: ['9-5'] } },
    { type: 'detect_dtmf', options: [{ key: '1', name: 'A', actions: [] }, { key: '1', name: 'B', actions: [] }] },
    { type: 'answer', queue: 'x' },
    { type: 'hangup', colour: 'red' },
  ]);
  const msgs = bad.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  assert.ok(msgs.some((m) => m.startsWith('0: missing what to play')), msgs.join('\n'));
  assert.ok(msgs.some((m) => m.startsWith('1.queue: missing')));
  assert.ok(msgs.some((m) => m.startsWith('2.to: "abc" is not valid')));
  assert.ok(msgs.some((m) => m.startsWith('2.when.weekdays.0: unknown value "monday"')));
  assert.ok(msgs.some((m) => m.startsWith('2.when.times.0: "9-5" is not valid')));
  assert.ok(msgs.some((m) => m.startsWith('3.options.1.key: key "1" is used twice')));
  assert.ok(msgs.some((m) => m.startsWith('4.queue: field "queue" does not apply to a answer action')));
  assert.ok(msgs.some((m) => m.startsWith('5.colour: unknown field "colour"')));

  const at = new Date(2026, 11, 25, 23, 30); // Friday 25 Dec 2026, 23:30 local
  assert.ok(conditionMatches({ weekdays: ['fri'], times: ['22:00-06:00'] }, at));
  assert.ok(!conditionMatches({ weekdays: ['mon', 'tue'] }, at));
  assert.ok(conditionMatches({ dates: ['2026-12-25'] }, at));
  assert.ok(conditionMatches({ period: { from: '2026-12-24', to: '2026-12-25' } }, at));
  assert.ok(!conditionMatches({ period: { from: '2026-12-24', to: '2026-12-25T23:00' } }, at));
  assert.ok(!conditionMatches({ times: ['09:00-18:00'] }, at));
  assert.ok(conditionMatches(undefined, at));

  // With the site's time zone: 2026-12-25 23:30 UTC is already Saturday 00:30 in Paris.
  const utc = new Date(Date.UTC(2026, 11, 25, 23, 30));
  assert.ok(conditionMatches({ dates: ['2026-12-26'], weekdays: ['sat'], times: ['00:00-01:00'] }, utc, 'Europe/Paris'));
  assert.ok(conditionMatches({ dates: ['2026-12-25'], weekdays: ['fri'], times: ['23:00-24:00'] }, utc, 'UTC'));
  assert.ok(conditionMatches({ weekdays: ['fri'], times: ['18:30-19:00'] }, utc, 'America/New_York'));
  assert.ok(isTimeZone('Europe/Paris'));
  assert.ok(!isTimeZone('Mars/Olympus'));
});

test('sounds, phones, settings', () => {
  const { store, d } = dir();
  try {
    const s = d.sounds.create({ name: 'Welcome', file: 'welcome.wav', language: 'fr' });
    assert.equal(s.kind, 'prompt');
    assert.throws(() => d.sounds.create({ name: 'x', file: '../etc/passwd' }), /plain file name/);
    assert.throws(() => d.sounds.create({ name: 'Welcome', file: 'w.wav' }), /already exists/);
    assert.equal(d.sounds.update(s.id, { kind: 'moh' }).kind, 'moh');

    const e = d.extensions.create({ number: '100' });
    assert.equal(normaliseMac('00:15:65:AA:BB:CC'), '001565aabbcc');
    const p = d.phones.create({ mac: '00-15-65-AA-BB-CC', vendor: 'yealink', model: 'T46U', extensionId: e.id, settings: { blf1: '101' } });
    assert.equal(p.mac, '001565aabbcc');
    assert.equal(d.phones.findByMac('001565AABBCC')?.id, p.id);
    assert.throws(() => d.phones.create({ mac: 'zz', vendor: 'yealink' }), /not a MAC/);
    assert.throws(() => d.phones.create({ mac: '001565aabbcd', vendor: 'nokia' as 'snom' }), /vendor "nokia"/);
    d.extensions.delete(e.id);
    assert.equal(d.phones.require(p.id).extensionId, null);

    d.settings.set('site.name', 'Office');
    d.settings.setJson('site.tz', { zone: 'Europe/Paris' });
    d.settings.set('other', 'x');
    assert.deepEqual(d.settings.list('site.').map((x) => x.key), ['site.name', 'site.tz']);
    assert.deepEqual(d.settings.getJson('site.tz'), { zone: 'Europe/Paris' });
    d.settings.setJson('site.timezone', 'Europe/Paris');
    assert.equal(d.settings.site('timezone'), 'Europe/Paris');
    assert.equal(d.settings.site('missing'), undefined);
    d.settings.deletePrefix('site.');
    assert.deepEqual(d.settings.list().map((x) => x.key), ['other']);
    assert.equal(d.isEmpty(), true);
  } finally {
    store.close();
  }
});
