// Phone inventory: phones seen (file request, REGISTER with a vendor User-Agent), auto-assignment of the next free
// extension, the status with its reason, refused paths, the fetch log, device credentials.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { macFromInstance, macFromText, modelFromUserAgent } from '../../../services/provisioning/index.js';
import { MACS, UNASSIGNED, office } from './provisioning-fixture.js';

const o = office();
after(() => o.store.close());

test('an unknown MAC gets 404 and a row in the inventory as unassigned, with vendor from its OUI', () => {
  const r = o.service.serve({ name: '805ec0000001.cfg', via: 'http', ip: '192.0.2.60', userAgent: 'Yealink SIP-T54W 96.85.0.5 80:5e:c0:00:00:01' });
  assert.equal(r.status, 404);
  const e = o.service.get('805ec0000001');
  assert.equal(e.status, 'unassigned');
  assert.equal(e.known, false);
  assert.equal(e.vendor, 'yealink');
  assert.equal(e.model, 'T54W');
  assert.equal(e.firmware, '96.85.0.5');
  assert.equal(e.ip, '192.0.2.60');
  assert.equal(e.seenVia, 'http');
  assert.equal(o.service.inventory.fetches('805ec0000001', 10)[0]?.status, 404);
});

test('path traversal and directory parts are refused (403) without touching the disk', () => {
  for (const name of ['../relais.db', '..', 'a/b.cfg', '..\\x', `${'%2e%2e'}`.replace(/%2e/g, '.'), '']) {
    const r = o.service.serve({ name, via: 'tftp', ip: '192.0.2.61' });
    assert.equal(r.status, 403, name);
  }
});

test('a Polycom MAC asking for a Yealink-only file name gets 404 (vendor decided by the phone record)', () => {
  assert.equal(o.service.serve({ name: `y000000000028.cfg`, via: 'http', ip: '192.0.2.62' }).status, 200);
  assert.equal(o.service.serve({ name: `cfg${MACS.polycom}.xml`, via: 'http', ip: '192.0.2.62' }).status, 404);
});

test('auto-assign gives a new phone the lowest extension without a phone', () => {
  // Every phone of the fixture is on 201: 202 is the next free one.
  o.service.updateSettings({ autoAssign: true });
  try {
    const r = o.service.serve({ name: '001565000002.cfg', via: 'https', ip: '192.0.2.63' });
    assert.equal(r.status, 200);
    const e = o.service.get('001565000002');
    assert.equal(e.extension, '202');
    assert.equal(e.known, true);
    assert.equal(e.status, 'provisioned');
    assert.match(e.reason, /waiting for it to register/);
  } finally {
    o.service.updateSettings({ autoAssign: false });
  }
});

test('status: fetched without secrets is failing with the reason; a refused REGISTER is failing; a binding is registered', () => {
  const mac = MACS.snom;
  o.service.serve({ name: `${mac.toUpperCase()}.xml`, via: 'http', ip: '192.0.2.64' });
  let e = o.service.get(mac);
  assert.equal(e.status, 'failing');
  assert.match(e.reason, /without device credentials/);
  o.service.serve({ name: `${mac.toUpperCase()}.xml`, via: 'https', ip: '192.0.2.64' });
  assert.equal(o.service.get(mac).status, 'provisioned');
  o.clock.advance(1000);
  o.service.observeRegister({ address: '192.0.2.64', userAgent: 'snomD785/10.1.54.13', instance: undefined, username: '201', status: 401, cause: 'wrong-password' });
  e = o.service.get(mac);
  assert.equal(e.status, 'failing');
  assert.match(e.reason, /REGISTER for 201 was refused \(401 wrong-password\)/);
  assert.equal(e.firmware, '10.1.54.13');
  o.clock.advance(200_000);
  o.service.observeRegister({ address: '192.0.2.64', userAgent: 'snomD785/10.1.54.13', instance: undefined, username: '201', status: 401, cause: 'challenge' });
  assert.equal(o.service.get(mac).status, 'failing', 'a plain challenge changes nothing');
});

test('a REGISTER from an unknown vendor phone with its MAC in +sip.instance makes it seen; a non-phone UA does not', () => {
  o.service.observeRegister({ address: '192.0.2.70', userAgent: 'Grandstream GXP2170 1.0.11.3', instance: '<urn:uuid:00000000-0000-1000-8000-000b82123456>', username: '209', status: 404, cause: '404' });
  assert.equal(o.service.get('000b82123456').vendor, 'grandstream');
  assert.equal(o.service.get('000b82123456').seenVia, 'register');
  o.service.observeRegister({ address: '192.0.2.71', userAgent: 'SIPp', instance: '<urn:uuid:00000000-0000-1000-8000-aabbccddeeff>', username: '209', status: 200, cause: 'ok' });
  assert.throws(() => o.service.get('aabbccddeeff'), /never seen/);
});

test('MACs, models and firmware are read from what phones send', () => {
  assert.equal(macFromText('Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc'), '001565aabbcc');
  assert.equal(macFromText('Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82aabbcc'), '000b82aabbcc');
  assert.equal(macFromInstance('"<urn:uuid:00000000-0000-1000-8000-0004F2AABBCC>"'), '0004f2aabbcc');
  assert.equal(macFromInstance('<urn:uuid:3f2504e0-4f89-11d3-9a0c-000000000000>'), undefined);
  assert.deepEqual(modelFromUserAgent('PolycomVVX-VVX_410-UA/5.9.0.9373'), { model: 'VVX_410', firmware: '5.9.0.9373' });
  assert.deepEqual(modelFromUserAgent('Cisco/SPA504G-7.5.5'), { model: 'SPA504G', firmware: '7.5.5' });
});

test('assign moves a seen phone to an extension; a wrong extension or vendor is refused naming the field', () => {
  assert.throws(() => o.service.assign('805ec0000001', { extension: '999' }), (e: Error & { field?: string }) => e.field === 'extension');
  o.service.observeRegister({ address: '192.0.2.80', userAgent: 'Acme 1.0 aa:bb:cc:00:00:01', instance: undefined, username: 'x', status: 404, cause: '404' });
  const e = o.service.assign('805ec0000001', { extension: '203', label: 'Hall' });
  assert.equal(e.extension, '203');
  assert.equal(e.label, 'Hall');
  assert.throws(() => o.service.requireMac('00:15:65:aa:bb:cc'), /12 hex digits/);
  assert.equal(o.service.get(UNASSIGNED).status, 'unassigned');
});

test('device credentials are stable per MAC and give the MD5 HA1 of MAC:realm:password', () => {
  const c1 = o.service.deviceCredentials(MACS.yealink);
  assert.equal(c1.username, MACS.yealink);
  assert.equal(o.service.deviceCredentials(MACS.yealink).password, c1.password);
  assert.match(o.service.deviceHa1(MACS.yealink, 'relais.test') ?? '', /^[0-9a-f]{32}$/);
  assert.equal(o.service.deviceHa1('001565999999', 'relais.test'), undefined, 'no phone, no credentials');
});

test('settings: override code checked, off removes the key', () => {
  assert.throws(() => o.service.updateSettings({ overrideCode: '*3x' }), (e: Error & { field?: string }) => e.field === 'overrideCode');
  o.service.updateSettings({ overrideCode: null });
  try {
    assert.ok(!o.service.get(MACS.yealink).keys.some((k) => k.label === 'Day/Night'));
  } finally {
    o.service.updateSettings({ overrideCode: '*30' });
  }
  assert.ok(o.service.get(MACS.yealink).keys.some((k) => k.value === '*30'));
});

test('requireCredentials: HTTPS alone no longer gets the password; the device credentials do', () => {
  o.service.updateSettings({ requireCredentials: true });
  try {
    const https = o.service.serve({ name: `spa${MACS.cisco}.cfg`, via: 'https', ip: '192.0.2.90' });
    assert.ok(https.status === 200 && !https.secrets && !https.body.toString().includes('secret-201'));
    const auth = o.service.serve({ name: `spa${MACS.cisco}.cfg`, via: 'https', ip: '192.0.2.90', authenticated: true });
    assert.ok(auth.status === 200 && auth.secrets && auth.body.toString().includes('secret-201'));
  } finally {
    o.service.updateSettings({ requireCredentials: false });
  }
});
