// Phones of an extension that requires TLS + SRTP: every vendor's file sets SIP over TLS on the TLS port and SRTP
// mandatory, with the box's certificate where the format allows (Yealink by URL, Polycom and Grandstream inline);
// the files of the other extensions do not change (their golden files), and relais-ca.pem is served.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ProvisioningService, VENDORS } from '../../../services/provisioning/index.js';
import type { PhoneVendor } from '../../../services/directory/index.js';
import { silentLogger } from '../../../services/shared/index.js';
import { MACS, office } from './provisioning-fixture.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBfzCCASWgAwIBAgIUclock\nAbCd==\n-----END CERTIFICATE-----\n';
const o = office();
after(() => o.store.close());
const ext = o.directory.extensions.findByNumber('201')!;
o.directory.extensions.update(ext.id, { requireTlsSrtp: true });
const service = new ProvisioningService({
  db: o.store.db,
  directory: o.directory,
  clock: o.clock,
  logger: silentLogger,
  domain: 'relais.test',
  dataDir: o.dataDir,
  sipPort: 5060,
  sipTlsPort: () => 5061,
  certificatePem: () => PEM,
  advertisedHost: () => '192.0.2.10',
  ports: () => ({ http: 8080, https: 8443 }),
});

function file(vendor: PhoneVendor): string {
  const r = service.serve({ name: VENDORS[vendor].configFile(MACS[vendor]), via: 'https', ip: '192.0.2.60' });
  assert.equal(r.status, 200);
  return r.status === 200 ? r.body.toString() : '';
}

function xml(text: string): Record<string, unknown> {
  assert.equal(XMLValidator.validate(text), true, text);
  return new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false }).parse(text) as Record<string, unknown>;
}

/** What each vendor's file must say for TLS on 5061 and mandatory SRTP (the vendors' admin guides' keys). */
const EXPECTED: Record<PhoneVendor, RegExp[]> = {
  yealink: [/^account\.1\.sip_server\.1\.port = 5061$/m, /^account\.1\.sip_server\.1\.transport_type = 2$/m, /^account\.1\.srtp_encryption = 2$/m, /^static\.trusted_certificates\.url = http:\/\/192\.0\.2\.10:8080\/provisioning\/relais-ca\.pem$/m],
  polycom: [/reg\.1\.server\.1\.port="5061"/, /reg\.1\.server\.1\.transport="TLS"/, /sec\.srtp\.enable="1" sec\.srtp\.offer="1" sec\.srtp\.require="1"/, /device\.sec\.TLS\.customCaCert1\.set="1"/],
  grandstream: [/<P47>192\.0\.2\.10:5061<\/P47>/, /<P130>2<\/P130>/, /<P183>2<\/P183>/, /<P8433>-----BEGIN CERTIFICATE-----\nMIIBfzCCASWgAwIBAgIUclock\nAbCd==\n-----END CERTIFICATE-----<\/P8433>/],
  snom: [/<user_host idx="1" perm="">192\.0\.2\.10:5061;transport=tls<\/user_host>/, /<user_srtp idx="1" perm="">on<\/user_srtp>/, /<user_savp idx="1" perm="">mandatory<\/user_savp>/],
  fanvil: [/^SIP1 Register Port\s+:5061$/m, /^SIP1 Transport Type\s+:2$/m, /^SIP1 Enable SRTP\s+:1$/m],
  cisco: [/<Proxy_1_>192\.0\.2\.10:5061<\/Proxy_1_>/, /<SIP_Transport_1_>TLS<\/SIP_Transport_1_>/, /<Secure_Call_Serv>Yes<\/Secure_Call_Serv>/, /<Secure_Call_Option_1_>Required<\/Secure_Call_Option_1_>/],
};

for (const vendor of Object.keys(MACS) as PhoneVendor[]) {
  test(`${vendor}: an extension requiring TLS + SRTP gets SIP over TLS on 5061 and mandatory SRTP`, () => {
    const text = file(vendor);
    for (const re of EXPECTED[vendor]) assert.match(text, re, `${vendor}:\n${text}`);
    if (vendor !== 'yealink' && vendor !== 'fanvil') xml(text);
  });
}

test('polycom: the certificate is inline with its line breaks (&#10;), read back as the PEM by an XML parser', () => {
  const doc = xml(file('polycom')) as { polycomConfig: { device: Array<Record<string, string>> | Record<string, string> } };
  const devices = Array.isArray(doc.polycomConfig.device) ? doc.polycomConfig.device : [doc.polycomConfig.device];
  const cert = devices.find((d) => d['@device.sec.TLS.customCaCert1'] !== undefined)?.['@device.sec.TLS.customCaCert1'];
  assert.equal(cert?.replace(/&#10;/g, '\n'), PEM.trim());
});

test('a phone set to transport: tls gets the same without its extension requiring it; UDP phones stay as they were', () => {
  o.directory.extensions.update(ext.id, { requireTlsSrtp: false });
  try {
    const plain = file('yealink');
    assert.match(plain, /^account\.1\.sip_server\.1\.transport_type = 0$/m);
    assert.match(plain, /^account\.1\.sip_server\.1\.port = 5060$/m);
    assert.doesNotMatch(plain, /srtp_encryption|trusted_certificates/);
    const phone = o.directory.phones.findByMac(MACS.yealink)!;
    o.directory.phones.update(phone.id, { settings: { ...phone.settings, transport: 'tls' } });
    try {
      assert.match(file('yealink'), /^account\.1\.srtp_encryption = 2$/m);
    } finally {
      o.directory.phones.update(phone.id, { settings: phone.settings });
    }
  } finally {
    o.directory.extensions.update(ext.id, { requireTlsSrtp: true });
  }
});

test('relais-ca.pem is served (public: over plain HTTP and TFTP too); 404 with a reason before a certificate exists', () => {
  const r = service.serve({ name: 'relais-ca.pem', via: 'tftp', ip: '192.0.2.61' });
  assert.ok(r.status === 200 && r.body.toString() === PEM && !r.secrets);
  const none = o.service.serve({ name: 'relais-ca.pem', via: 'http', ip: '192.0.2.61' });
  assert.equal(none.status, 404);
  assert.ok(none.status === 404 && none.code === 'provisioning.no_certificate');
});

test('site setting phones_tls: every assigned phone moves to TLS with SRTP offered (optional), only when the box serves TLS', () => {
  o.directory.extensions.update(ext.id, { requireTlsSrtp: false });
  try {
    service.updateSettings({ tls: true });
    const optional: Record<PhoneVendor, RegExp[]> = {
      yealink: [/^account\.1\.sip_server\.1\.transport_type = 2$/m, /^account\.1\.srtp_encryption = 1$/m, /relais-ca\.pem$/m],
      polycom: [/reg\.1\.server\.1\.transport="TLS"/, /sec\.srtp\.offer="1" sec\.srtp\.require="0"/],
      grandstream: [/<P130>2<\/P130>/, /<P183>1<\/P183>/],
      snom: [/;transport=tls<\/user_host>/, /<user_savp idx="1" perm="">optional<\/user_savp>/],
      fanvil: [/^SIP1 Transport Type\s+:2$/m, /^SIP1 Enable SRTP\s+:1$/m],
      cisco: [/<SIP_Transport_1_>TLS<\/SIP_Transport_1_>/, /<Secure_Call_Option_1_>Optional<\/Secure_Call_Option_1_>/],
    };
    for (const vendor of Object.keys(MACS) as PhoneVendor[]) {
      const text = file(vendor);
      for (const re of optional[vendor]) assert.match(text, re, `${vendor}:\n${text}`);
    }
    // A box without SIP over TLS (no TLS port) leaves its phones on UDP whatever the setting says.
    const noTls = o.service.serve({ name: VENDORS.yealink.configFile(MACS.yealink), via: 'https', ip: '192.0.2.62' });
    assert.ok(noTls.status === 200 && /transport_type = 0$/m.test(noTls.body.toString()));
  } finally {
    service.updateSettings({ tls: false });
    o.directory.extensions.update(ext.id, { requireTlsSrtp: true });
  }
});
