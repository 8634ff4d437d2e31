// Vendor templates: golden files per vendor (test/fixtures/provisioning) and structural checks written from the
// vendors' public admin guides (XML well-formed, each vendor's required keys, a BLF key list, a queue login key).
// RELAIS_UPDATE_GOLDEN=1 rewrites the golden files after a deliberate template change.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { VENDORS } from '../../../services/provisioning/index.js';
import type { PhoneVendor } from '../../../services/directory/index.js';
import { PROJECT_ROOT } from '../../helpers/relais-process.js';
import { MACS, office } from './provisioning-fixture.js';

const GOLDEN = path.join(PROJECT_ROOT, 'test/fixtures/provisioning');
const o = office();
after(() => o.store.close());

function xml(text: string): Record<string, unknown> {
  const ok = XMLValidator.validate(text);
  assert.equal(ok, true, `well-formed XML: ${JSON.stringify(ok)}\n${text}`);
  return new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false }).parse(text) as Record<string, unknown>;
}

/** "key = value" lines (Yealink) or "Key   :value" lines (Fanvil) as a map. */
function keyValues(text: string, sep: RegExp): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = sep.exec(line);
    if (m) out.set(m[1]!.trim(), m[2]!.trim());
  }
  return out;
}

/** How each vendor's bootstrap file says "no account" (the admin guides' enable switches). */
const DISABLED: Record<PhoneVendor, string> = {
  yealink: 'account.1.enable = 0',
  polycom: '<polycomConfig>',
  grandstream: '<P271>0</P271>',
  snom: '<user_active idx="1" perm="">off</user_active>',
  fanvil: 'SIP1 Enable Reg        :0',
  cisco: '<Line_Enable_1_>No</Line_Enable_1_>',
};

for (const vendor of Object.keys(MACS) as PhoneVendor[]) {
  test(`${vendor}: the generated file matches its golden file`, () => {
    const c = o.service.configFor(MACS[vendor]);
    assert.equal(c.file, VENDORS[vendor].configFile(MACS[vendor]));
    const golden = path.join(GOLDEN, vendor, c.file);
    if (process.env.RELAIS_UPDATE_GOLDEN === '1') {
      fs.mkdirSync(path.dirname(golden), { recursive: true });
      fs.writeFileSync(golden, c.body);
    }
    assert.equal(c.body, fs.readFileSync(golden, 'utf8'));
  });

  test(`${vendor}: a phone without an extension gets a bootstrap file without any account or secret`, () => {
    const p = o.directory.phones.findByMac(MACS[vendor])!;
    o.directory.phones.update(p.id, { extensionId: null });
    try {
      const r = o.service.serve({ name: VENDORS[vendor].configFile(MACS[vendor]), via: 'https', ip: '192.0.2.50' });
      assert.equal(r.status, 200);
      if (r.status !== 200) return;
      const text = r.body.toString();
      assert.doesNotMatch(text, /secret-20|Anne/);
      assert.ok(text.includes(DISABLED[vendor]), `${vendor} bootstrap disables the account:\n${text}`);
      assert.ok(text.includes('192.0.2.10:8443') || text.includes('https://192.0.2.10'), 'it still names where to fetch later');
    } finally {
      o.directory.phones.update(p.id, { extensionId: p.extensionId });
    }
  });

  test(`${vendor}: over plain HTTP without device credentials the file carries no password`, () => {
    const r = o.service.serve({ name: VENDORS[vendor].configFile(MACS[vendor]), via: 'http', ip: '192.0.2.51' });
    assert.equal(r.status, 200);
    if (r.status !== 200) return;
    assert.equal(r.secrets, false);
    assert.doesNotMatch(r.body.toString(), /secret-201/);
    const full = o.service.serve({ name: VENDORS[vendor].configFile(MACS[vendor]), via: 'https', ip: '192.0.2.51' });
    assert.ok(full.status === 200 && full.secrets && full.body.toString().includes('secret-201'));
  });
}

test('yealink <mac>.cfg: version line, account.1.*, BLF keys (type 16) for extensions and queue login *41<short>', () => {
  const text = o.service.configFor(MACS.yealink).body;
  assert.equal(text.split('\n')[0], '#!version:1.0.0.1');
  for (const line of text.split('\n')) if (line && !line.startsWith('#')) assert.match(line, /^[a-z0-9_.]+ = .*$/, `key = value: ${line}`);
  const kv = keyValues(text, /^([a-z0-9_.]+) = (.*)$/);
  for (const k of ['account.1.enable', 'account.1.user_name', 'account.1.auth_name', 'account.1.password', 'account.1.sip_server.1.address', 'account.1.sip_server.1.port', 'static.auto_provision.server.url']) {
    assert.ok(kv.has(k), `required key ${k}`);
  }
  assert.equal(kv.get('account.1.password'), 'secret-201');
  assert.equal(kv.get('account.1.sip_server.1.address'), '192.0.2.10');
  assert.equal(kv.get('static.auto_provision.server.url'), 'https://192.0.2.10:8443/provisioning/');
  const keys = [...kv].filter(([k]) => /^linekey\.\d+\.value$/.test(k)).map(([k, v]) => ({ n: k.split('.')[1]!, value: v, type: kv.get(`linekey.${k.split('.')[1]}.type`) }));
  assert.deepEqual(keys.find((k) => k.value === '*4199900')?.type, '16', 'queue login key is a BLF');
  assert.deepEqual(keys.find((k) => k.value === '*4299900')?.type, '13', 'queue logout key is a speed dial');
  assert.deepEqual(keys.filter((k) => /^20\d$/.test(k.value)).map((k) => [k.value, k.type]), [['202', '16'], ['203', '16']], 'a BLF per other extension');
  assert.equal(keys.find((k) => k.value === '*30')?.type, '16', 'day/night override key (default *30)');
  // Anne is not in Support: no key for it.
  assert.ok(!keys.some((k) => k.value.endsWith('99901')));
});

test('yealink common file y0000000000XX.cfg is served to any Yealink and names no account', () => {
  const r = o.service.serve({ name: 'y000000000028.cfg', via: 'http', ip: '192.0.2.52' });
  assert.equal(r.status, 200);
  if (r.status === 200) assert.doesNotMatch(r.body.toString(), /account\./);
});

test('polycom: master 000000000000.cfg names [PHONE_MAC_ADDRESS]-phone.cfg; <mac>-phone.cfg has reg.1.* and attendant.resourceList BLF', () => {
  const master = o.service.serve({ name: '000000000000.cfg', via: 'http', ip: '192.0.2.53' });
  assert.equal(master.status, 200);
  if (master.status !== 200) return;
  const app = xml(master.body.toString())['APPLICATION'] as Record<string, string>;
  assert.equal(app['@CONFIG_FILES'], '[PHONE_MAC_ADDRESS]-phone.cfg');
  assert.ok(app['@APP_FILE_PATH']);
  const perMac = o.service.serve({ name: `${MACS.polycom}.cfg`, via: 'http', ip: '192.0.2.53' });
  assert.ok(perMac.status === 200 && perMac.body.toString().includes(`CONFIG_FILES="${MACS.polycom}-phone.cfg"`));

  const doc = xml(o.service.configFor(MACS.polycom).body)['polycomConfig'] as Record<string, Record<string, string>>;
  const reg = doc['reg']!;
  assert.equal(reg['@reg.1.address'], '201');
  assert.equal(reg['@reg.1.auth.userId'], '201');
  assert.equal(reg['@reg.1.auth.password'], 'secret-201');
  assert.equal(reg['@reg.1.server.1.address'], '192.0.2.10');
  assert.equal(reg['@reg.1.server.1.transport'], 'UDPOnly');
  assert.equal(reg['@reg.1.displayName'], 'Anne <Sales & Co>', 'XML-escaped and read back');
  const att = doc['attendant']!;
  const addresses = Object.entries(att).filter(([k]) => /^@attendant\.resourceList\.\d+\.address$/.test(k)).map(([, v]) => v);
  assert.ok(addresses.includes('*4199900') && addresses.includes('202') && addresses.includes('203'), addresses.join(','));
  assert.equal(doc['msg']!['@msg.mwi.1.callBack'], '*97');
  assert.equal(doc['tcpIpApp']!['@tcpIpApp.sntp.gmtOffset'], '3600');
});

test('grandstream cfg<mac>.xml: gs_provision with P271/P47/P35/P36/P34 and multi-purpose keys (P323 mode 1 = BLF)', () => {
  const doc = xml(o.service.configFor(MACS.grandstream).body)['gs_provision'] as Record<string, unknown>;
  assert.equal(doc['@version'], '1');
  assert.equal(doc['mac'], MACS.grandstream);
  const p = doc['config'] as Record<string, string>;
  assert.equal(p['P271'], '1');
  assert.equal(p['P47'], '192.0.2.10:5060');
  assert.equal(p['P35'], '201');
  assert.equal(p['P36'], '201');
  assert.equal(p['P34'], 'secret-201');
  assert.equal(p['P33'], '*97');
  assert.equal(p['P323'], '1', 'key 1 is a BLF');
  assert.equal(p['P303'], '*4199900', 'key 1 logs into the Sales queue');
  assert.equal(p['P324'], '0', 'key 2 (logout) is a speed dial');
  assert.equal(p['P246'], 'CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00');
});

test('snom <MAC>.xml: phone-settings user_* idx 1 and functionKeys "blf <sip:…>"', () => {
  const c = o.service.configFor(MACS.snom);
  assert.equal(c.file, `${MACS.snom.toUpperCase()}.xml`);
  const doc = xml(c.body)['settings'] as Record<string, Record<string, unknown>>;
  const ps = doc['phone-settings']!;
  const text = (v: unknown): string => (typeof v === 'object' && v !== null ? String((v as Record<string, unknown>)['#text'] ?? '') : String(v));
  assert.equal(text(ps['user_name']), '201');
  assert.equal(text(ps['user_pass']), 'secret-201');
  assert.equal(text(ps['user_host']), '192.0.2.10:5060;transport=udp');
  assert.equal(text(ps['setting_server']), 'https://192.0.2.10:8443/provisioning/');
  const fkeys = (doc['functionKeys']!['fkey'] as unknown[]).map(text);
  assert.ok(fkeys.includes('blf <sip:*4199900@192.0.2.10>'), fkeys.join(' | '));
  assert.ok(fkeys.includes('blf <sip:202@192.0.2.10>'));
  assert.ok(fkeys.includes('speed *4299900'));
});

test('fanvil <mac>.cfg: VOIP CONFIG FILE header, SIP1 account lines, DSS keys number@line/b for BLF', () => {
  const text = o.service.configFor(MACS.fanvil).body;
  assert.equal(text.split('\n')[0], '<<VOIP CONFIG FILE>>Version:2.0000000000');
  assert.equal(text.trimEnd().split('\n').at(-1), '<<END OF FILE>>');
  for (const m of ['<GLOBAL CONFIG MODULE>', '<SIP CONFIG MODULE>', '<DSS CONFIG MODULE>', '<AUTOUPDATE CONFIG MODULE>']) assert.ok(text.includes(m), m);
  const kv = keyValues(text, /^([A-Za-z0-9 ]+?)\s*:(.*)$/);
  assert.equal(kv.get('SIP1 Phone Number'), '201');
  assert.equal(kv.get('SIP1 Register Addr'), '192.0.2.10');
  assert.equal(kv.get('SIP1 Register Pswd'), 'secret-201');
  assert.equal(kv.get('SIP1 Enable Reg'), '1');
  const dss = [...kv].filter(([k]) => /^Fkey\d+ Value$/.test(k)).map(([, v]) => v);
  assert.ok(dss.includes('*4199900@1/b') && dss.includes('202@1/b') && dss.includes('*4299900@1/s'), dss.join(','));
});

test('cisco spa<mac>.cfg: flat-profile with Line_Enable_1_, Proxy_1_, User_ID_1_, Password_1_ and Extended_Function BLF', () => {
  const doc = xml(o.service.configFor(MACS.cisco).body)['flat-profile'] as Record<string, string>;
  assert.equal(doc['Line_Enable_1_'], 'Yes');
  assert.equal(doc['Proxy_1_'], '192.0.2.10:5060');
  assert.equal(doc['User_ID_1_'], '201');
  assert.equal(doc['Password_1_'], 'secret-201');
  assert.equal(doc['Profile_Rule'], 'https://192.0.2.10:8443/provisioning/spa$MA.cfg');
  assert.equal(doc['Time_Zone'], 'GMT+01:00');
  const fns = Object.entries(doc).filter(([k]) => /^Extended_Function_\d+_$/.test(k)).map(([, v]) => v);
  assert.ok(fns.some((f) => f.startsWith('fnc=blf+sd+cp;sub=*4199900@192.0.2.10')), fns.join(' | '));
  assert.ok(fns.some((f) => f.startsWith('fnc=blf+sd+cp;sub=202@192.0.2.10')));
});

test('a phone\'s own keys (settings blfN / speedN) replace the automatic ones, in their order', () => {
  const p = o.directory.phones.findByMac(MACS.yealink)!;
  o.directory.phones.update(p.id, { settings: { blf2: '203', blf1: '*4199901', speed3: '0600000000' } });
  try {
    const kv = keyValues(o.service.configFor(MACS.yealink).body, /^([a-z0-9_.]+) = (.*)$/);
    assert.deepEqual([kv.get('linekey.2.value'), kv.get('linekey.3.value'), kv.get('linekey.4.value'), kv.get('linekey.5.value')], ['*4199901', '203', '0600000000', undefined]);
    assert.equal(kv.get('linekey.4.type'), '13');
  } finally {
    o.directory.phones.update(p.id, { settings: {} });
  }
});

test('a site template override in <dataDir>/provisioning/templates wins and applies on the next fetch', () => {
  const dir = path.join(o.dataDir, 'provisioning', 'templates', 'cisco');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'phone.xml'), '<flat-profile><User_ID_1_>{{account.username}}</User_ID_1_><Custom_>site</Custom_></flat-profile>\n');
  try {
    const doc = xml(o.service.configFor(MACS.cisco).body)['flat-profile'] as Record<string, string>;
    assert.deepEqual(doc, { User_ID_1_: '201', Custom_: 'site' });
  } finally {
    fs.rmSync(path.join(dir, 'phone.xml'));
  }
  assert.ok(o.service.configFor(MACS.cisco).body.includes('Proxy_1_'), 'back to the built-in template');
});

test('a broken override template is refused with an error naming the template', () => {
  const dir = path.join(o.dataDir, 'provisioning', 'templates', 'snom');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'phone.xml'), '<settings>{{#keys}}</settings>\n');
  try {
    assert.throws(() => o.service.configFor(MACS.snom), /template snom\/phone\.xml \(site override\): \{\{#keys\}\} is never closed/);
  } finally {
    fs.rmSync(path.join(dir, 'phone.xml'));
  }
});
