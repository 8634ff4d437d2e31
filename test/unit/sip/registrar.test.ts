import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ManualClock, silentLogger } from '../../../services/shared/index.js';
import { Store } from '../../../services/storage/index.js';
import { ExtensionRepository } from '../../../services/directory/index.js';
import { DigestClient } from '../../../services/sip/auth/index.js';
import { parseMessage, SipRequest } from '../../../services/sip/message/index.js';
import { Registrar, type Binding, type BindingSource, type RegisterOutcome } from '../../../services/sip/registrar/index.js';
import { tempDir } from '../../helpers/relais-process.js';

const DOMAIN = 'relais.test';
const SRC: BindingSource = { transport: 'udp', address: '127.0.0.9', port: 5099 };

interface Setup {
  store: Store;
  clock: ManualClock;
  registrar: Registrar;
  extensions: ExtensionRepository;
  file: string;
}

async function setup(file = path.join(tempDir(), 'r.db'), clock = new ManualClock()): Promise<Setup> {
  const store = Store.open(file);
  const extensions = new ExtensionRepository(store.db, DOMAIN);
  if (!extensions.findByNumber('1000')) {
    extensions.create({ number: '1000', secret: 'pw1000secret', digestAlgorithm: 'MD5' });
    extensions.create({ number: '1001', secret: 'pw1001secret', digestAlgorithm: 'MD5' });
    extensions.create({ number: '1002', secret: 'pw1002secret', digestAlgorithm: 'both' });
  }
  const registrar = new Registrar({ db: store.db, extensions, clock, logger: silentLogger, domain: DOMAIN });
  await registrar.start();
  return { store, clock, registrar, extensions, file };
}

let callSeq = 0;
function register(opts: {
  user?: string;
  toUser?: string;
  contacts?: string[];
  expires?: number | undefined;
  callId?: string;
  cseq?: number;
  auth?: string;
}): SipRequest {
  const user = opts.user ?? '1000';
  const lines = [
    `REGISTER sip:${DOMAIN} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.9:5099;branch=z9hG4bK${++callSeq}`,
    'Max-Forwards: 70',
    `From: <sip:${user}@${DOMAIN}>;tag=f${callSeq}`,
    `To: <sip:${opts.toUser ?? user}@${DOMAIN}>`,
    `Call-ID: ${opts.callId ?? 'call-' + callSeq}`,
    `CSeq: ${opts.cseq ?? 1} REGISTER`,
    ...(opts.contacts ?? [`<sip:${user}@127.0.0.9:5099>`]).map((c) => `Contact: ${c}`),
    ...(opts.expires === undefined ? [] : [`Expires: ${opts.expires}`]),
    ...(opts.auth ? [`Authorization: ${opts.auth}`] : []),
    'Content-Length: 0',
    '',
    '',
  ];
  return parseMessage(Buffer.from(lines.join('\r\n'))) as SipRequest;
}

function header(out: RegisterOutcome, name: string): string[] {
  return out.headers.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

/** Challenge, then answer it: the two round trips of a registration. */
function authedRegister(r: Registrar, opts: Parameters<typeof register>[0] & { password?: string }): RegisterOutcome {
  const user = opts.user ?? '1000';
  const first = r.handleRegister(register(opts), SRC);
  assert.equal(first.status, 401);
  const client = new DigestClient({ username: user, password: opts.password ?? `pw${user}secret` });
  const auth = client.authorize({ challenges: header(first, 'WWW-Authenticate'), method: 'REGISTER', uri: `sip:${DOMAIN}` })!;
  return r.handleRegister(register({ ...opts, auth, cseq: (opts.cseq ?? 1) + 1 }), SRC);
}

test('REGISTER: 401 challenge (MD5 alone for an MD5 extension), then 200 listing the contact with expires', async () => {
  const { registrar, store } = await setup();
  const events: Binding[] = [];
  registrar.on('registered', (b) => events.push(b));
  const first = registrar.handleRegister(register({ expires: 3600 }), SRC);
  assert.equal(first.status, 401);
  const ch = header(first, 'WWW-Authenticate');
  assert.equal(ch.length, 1);
  assert.match(ch[0]!, /algorithm=MD5, qop="auth"/);
  const ok = authedRegister(registrar, { expires: 3600, callId: 'c1' });
  assert.equal(ok.status, 200);
  assert.deepEqual(header(ok, 'Contact'), ['<sip:1000@127.0.0.9:5099>;expires=3600']);
  assert.equal(events.length, 1);
  const [b] = registrar.lookup('1000');
  assert.equal(b!.contact, 'sip:1000@127.0.0.9:5099');
  assert.deepEqual(b!.source, { transport: 'udp', address: '127.0.0.9', port: 5099, connectionId: undefined });
  assert.equal(b!.aor, 'sip:1000@relais.test');
  assert.equal(registrar.lookup('1001').length, 0);
  store.close();
});

test('REGISTER: wrong password → 401 again; other user\'s AOR → 403; SHA-256+MD5 extension gets both challenges', async () => {
  const { registrar, store } = await setup();
  const first = registrar.handleRegister(register({}), SRC);
  const auth = new DigestClient({ username: '1000', password: 'wrong' }).authorize({ challenges: header(first, 'WWW-Authenticate'), method: 'REGISTER', uri: `sip:${DOMAIN}` })!;
  assert.equal(registrar.handleRegister(register({ auth, cseq: 2 }), SRC).status, 401);
  const c2 = registrar.handleRegister(register({ toUser: '1001' }), SRC);
  const auth2 = new DigestClient({ username: '1000', password: 'pw1000secret' }).authorize({ challenges: header(c2, 'WWW-Authenticate'), method: 'REGISTER', uri: `sip:${DOMAIN}` })!;
  assert.equal(registrar.handleRegister(register({ toUser: '1001', auth: auth2, cseq: 2 }), SRC).status, 403);
  const both = header(registrar.handleRegister(register({ user: '1002' }), SRC), 'WWW-Authenticate');
  assert.equal(both.length, 2);
  assert.match(both[0]!, /SHA-256/);
  assert.equal(authedRegister(registrar, { user: '1002', expires: 600 }).status, 200);
  assert.equal(registrar.lookup('1000').length, 0);
  store.close();
});

test('REGISTER: Expires below minimum (15 s) → 423 with Min-Expires; above maximum shortened; contact param wins', async () => {
  const { registrar, store } = await setup();
  const short = authedRegister(registrar, { expires: 10 });
  assert.equal(short.status, 423);
  assert.deepEqual(header(short, 'Min-Expires'), ['15']);
  assert.equal(authedRegister(registrar, { expires: 15 }).status, 200);
  const long = authedRegister(registrar, { expires: 99999 });
  assert.deepEqual(header(long, 'Contact'), ['<sip:1000@127.0.0.9:5099>;expires=3600']);
  const param = authedRegister(registrar, { contacts: ['<sip:1000@127.0.0.9:5099>;expires=120'], expires: 3600 });
  assert.deepEqual(header(param, 'Contact'), ['<sip:1000@127.0.0.9:5099>;expires=120']);
  store.close();
});

test('REGISTER: several contacts per AOR, removal with expires=0, Contact: * needs Expires: 0', async () => {
  const { registrar, store, clock } = await setup();
  const unreg: Binding[] = [];
  registrar.on('unregistered', (b) => unreg.push(b));
  const a = authedRegister(registrar, { contacts: ['<sip:1000@10.0.0.1:5060>', '<sip:1000@10.0.0.2:5060>;q=0.5'], expires: 600 });
  assert.equal(a.status, 200);
  assert.equal(header(a, 'Contact').length, 2);
  clock.advance(1000);
  authedRegister(registrar, { contacts: ['<sip:1000@10.0.0.3:5060>'], expires: 600 });
  assert.deepEqual(registrar.lookup('1000').map((b) => b.contact), ['sip:1000@10.0.0.3:5060', 'sip:1000@10.0.0.1:5060', 'sip:1000@10.0.0.2:5060']);
  const rm = authedRegister(registrar, { contacts: ['<sip:1000@10.0.0.1:5060>'], expires: 0 });
  assert.equal(header(rm, 'Contact').length, 2);
  assert.equal(unreg.length, 1);
  // Query without Contact: 200 with the current list, nothing changes.
  assert.equal(header(authedRegister(registrar, { contacts: [] }), 'Contact').length, 2);
  assert.equal(authedRegister(registrar, { contacts: ['*'], expires: 60 }).status, 400);
  const all = authedRegister(registrar, { contacts: ['*'], expires: 0 });
  assert.equal(all.status, 200);
  assert.equal(header(all, 'Contact').length, 0);
  assert.equal(registrar.lookup('1000').length, 0);
  assert.equal(unreg.length, 3);
  store.close();
});

test('REGISTER: same Call-ID with an older CSeq is refused; a new Call-ID replaces the binding', async () => {
  const { registrar, store } = await setup();
  assert.equal(authedRegister(registrar, { callId: 'same', cseq: 10, expires: 600 }).status, 200);
  assert.equal(authedRegister(registrar, { callId: 'same', cseq: 5, expires: 600 }).status, 500);
  assert.equal(authedRegister(registrar, { callId: 'other', cseq: 1, expires: 600 }).status, 200);
  assert.equal(registrar.lookup('1000')[0]!.callId, 'other');
  store.close();
});

test('bindings expire on the clock (expired event) and survive a restart', async () => {
  const clock = new ManualClock();
  const s1 = await setup(undefined, clock);
  authedRegister(s1.registrar, { expires: 120, contacts: ['<sip:1000@10.0.0.1:5060>'] });
  authedRegister(s1.registrar, { expires: 600, contacts: ['<sip:1000@10.0.0.2:5060>'] });
  await s1.registrar.stop();
  s1.store.close();

  const s2 = await setup(s1.file, clock);
  assert.equal(s2.registrar.lookup('1000').length, 2, 'bindings loaded from SQLite after restart');
  const expired: Binding[] = [];
  s2.registrar.on('expired', (b) => expired.push(b));
  clock.advance(121_000);
  assert.deepEqual(expired.map((b) => b.contact), ['sip:1000@10.0.0.1:5060']);
  clock.advance(200);
  assert.deepEqual(s2.registrar.lookup('1000').map((b) => b.contact), ['sip:1000@10.0.0.2:5060']);
  const rows = s2.store.db.prepare('SELECT contact FROM registrations').all() as { contact: string }[];
  assert.deepEqual(rows.map((r) => r.contact), ['sip:1000@10.0.0.2:5060'], 'the expiry reached SQLite within the flush delay');
  await s2.registrar.stop();
  s2.store.close();

  // Down for longer than the binding lives: gone on start, with an expired event.
  clock.advance(600_000);
  const s3 = await setup(s1.file, clock);
  assert.equal(s3.registrar.lookup('1000').length, 0);
  await s3.registrar.stop();
  s3.store.close();
});

test('a REGISTER after a quiet moment is in SQLite by the next turn: a kill -9 right after its 200 keeps the binding', async () => {
  const clock = new ManualClock();
  const { registrar, store } = await setup(undefined, clock);
  const rows = (): string[] => (store.db.prepare('SELECT contact FROM registrations ORDER BY contact').all() as { contact: string }[]).map((r) => r.contact);
  assert.equal(authedRegister(registrar, { expires: 600, contacts: ['<sip:1000@10.0.0.1:5060>'] }).status, 200);
  assert.deepEqual(rows(), [], 'not within the turn of the 200');
  clock.advance(0);
  assert.deepEqual(rows(), ['sip:1000@10.0.0.1:5060'], 'on disk by the next turn');
  await registrar.stop();
  store.close();
});

test('malformed REGISTER → 400 naming the problem, never a throw', async () => {
  const { registrar, store } = await setup();
  const req = register({ contacts: ['<sip:1000@10.0.0.1:5060>;expires=abc'] });
  const ch = registrar.handleRegister(req, SRC);
  assert.equal(ch.status, 401);
  const out = authedRegister(registrar, { contacts: ['<sip:1000@10.0.0.1:5060>;expires=abc'] });
  assert.equal(out.status, 400);
  assert.match(out.reason!, /expires/);
  const noTo = new SipRequest('REGISTER', `sip:${DOMAIN}`);
  noTo.set('call-id', 'x').set('cseq', '1 REGISTER').set('from', '<sip:1000@relais.test>;tag=1');
  const bad = registrar.handleRegister(noTo, SRC);
  assert.equal(bad.status, 400);
  assert.match(bad.reason!, /To/);
  store.close();
});

test('write-behind: many REGISTERs reach SQLite in one flush, 200 ms later; stop() writes what is left', async () => {
  const { registrar, store, clock } = await setup();
  const count = (): number => (store.db.prepare('SELECT count(*) AS n FROM registrations').get() as { n: number }).n;
  authedRegister(registrar, { contacts: ['<sip:1000@10.0.0.1:5060>'], expires: 600 });
  authedRegister(registrar, { user: '1001', contacts: ['<sip:1001@10.0.0.2:5060>'], expires: 600 });
  assert.equal(count(), 0);
  assert.equal(registrar.health().detail!['unwritten'], 2);
  clock.advance(200);
  assert.equal(count(), 2);
  authedRegister(registrar, { contacts: ['<sip:1000@10.0.0.1:5060>'], expires: 0 });
  assert.equal(count(), 2);
  await registrar.stop();
  assert.equal(count(), 1);
  store.close();
});

test('a quick refresh is not written while the stored expiry covers 90 % of the new interval; a late or changed one is', async () => {
  const { registrar, store, clock } = await setup();
  const stored = (): number => (store.db.prepare('SELECT expires_at AS e FROM registrations').get() as { e: number }).e;
  const t0 = clock.now();
  const opts = { contacts: ['<sip:1000@10.0.0.1:5060>'], expires: 600, callId: 'refresh-call' };
  assert.equal(authedRegister(registrar, { ...opts, cseq: 1 }).status, 200);
  clock.advance(200);
  assert.equal(stored(), t0 + 600_000);
  // 30 s later (5 % of the interval): the stored expiry still covers 95 % of the new one, nothing to write.
  clock.advance(29_800);
  const kept = registrar.lookup('1000')[0]!;
  assert.equal(authedRegister(registrar, { ...opts, cseq: 3, callId: 'another-call' }).status, 200);
  assert.equal(registrar.lookup('1000')[0], kept, 'a refresh updates the binding in place');
  assert.deepEqual([kept.callId, kept.cseq], ['another-call', 4]);
  assert.equal(registrar.health().detail!['unwritten'], 0);
  assert.equal(registrar.lookup('1000')[0]!.expiresAt, t0 + 630_000, 'memory has the new expiry');
  // Just over 60 s after the write (over 10 % of the interval): written again.
  clock.advance(30_200);
  assert.equal(authedRegister(registrar, { ...opts, cseq: 5 }).status, 200);
  clock.advance(200);
  assert.equal(stored(), t0 + 660_200);
  // A quick refresh from another port (NAT rebinding) is written at once: the row's received column changes.
  clock.advance(1_000);
  const moved: BindingSource = { ...SRC, port: 6000 };
  const first = registrar.handleRegister(register({ ...opts, cseq: 7 }), moved);
  const client = new DigestClient({ username: '1000', password: 'pw1000secret' });
  const auth = client.authorize({ challenges: header(first, 'WWW-Authenticate'), method: 'REGISTER', uri: `sip:${DOMAIN}` })!;
  assert.equal(registrar.handleRegister(register({ ...opts, cseq: 8, auth }), moved).status, 200);
  clock.advance(200);
  assert.equal((store.db.prepare('SELECT received FROM registrations').get() as { received: string }).received, '127.0.0.9:6000');
  assert.notEqual(registrar.lookup('1000')[0], kept, 'a binding whose source changed is replaced');
  assert.equal(registrar.lookup('1000').length, 1);
  assert.equal(stored(), t0 + 661_400);
  await registrar.stop();
  store.close();
});

test('no enumeration: an unknown name gets the same 401 as a wrong password, with the algorithms of a real extension', async () => {
  const { registrar, store } = await setup();
  const uri = `sip:${DOMAIN}`;
  const answer = (user: string, password: string): RegisterOutcome => {
    const first = registrar.handleRegister(register({ user }), SRC);
    const auth = new DigestClient({ username: user, password }).authorize({ challenges: header(first, 'WWW-Authenticate'), method: 'REGISTER', uri })!;
    return registrar.handleRegister(register({ user, auth, cseq: 2 }), SRC);
  };
  const shape = (o: RegisterOutcome) => [o.status, o.reason, header(o, 'WWW-Authenticate').map((h) => h.replace(/nonce="[^"]+"/, 'nonce="…"'))];
  // The unknown name's challenge is that of one of the real extensions (1000: MD5, 1002: both).
  const unknown = JSON.stringify(shape(answer('9999', 'guess')));
  assert.ok([JSON.stringify(shape(answer('1000', 'guess'))), JSON.stringify(shape(answer('1002', 'guess')))].includes(unknown), unknown);
  // Site of two MD5 extensions and one MD5+SHA-256: names that exist nowhere are offered one of those two sets,
  // stable per name, and both sets occur.
  const offered = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const name = `ghost${i}`;
    const a = header(registrar.handleRegister(register({ user: name }), SRC), 'WWW-Authenticate').length;
    assert.equal(header(registrar.handleRegister(register({ user: name }), SRC), 'WWW-Authenticate').length, a, 'stable per name');
    offered.add(String(a));
  }
  assert.deepEqual([...offered].sort(), ['1', '2']);
  store.close();
});
