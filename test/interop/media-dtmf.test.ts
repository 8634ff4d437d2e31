// DTMF into the built-in engine from real tools: SIPp replaying an RFC 4733 capture, and sox-generated in-band tones.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BuiltinMediaEngine, type MediaEndpoint } from '../../services/media/index.js';
import { readPcm16Mono } from '../../services/media/sounds/index.js';
import { freePort, rtpRange } from '../helpers/ports.js';
import { tempDir } from '../helpers/relais-process.js';
import { RtpPeer, encode } from '../unit/media/rtp-peer.js';

const PCAP = '/usr/share/sip-tester/dtmf_2833_1.pcap';

let engine: BuiltinMediaEngine;
const range = rtpRange(100);

before(async () => {
  for (const tool of ['sipp', 'sox']) {
    try {
      execFileSync('which', [tool]);
    } catch {
      throw new Error(`${tool} is not installed: run ./scripts/install-peers (sip-tester, sox)`);
    }
  }
  if (!fs.existsSync(PCAP)) throw new Error(`${PCAP} is missing: the sip-tester package ships it (dpkg -L sip-tester)`);
  engine = new BuiltinMediaEngine({ bind: '127.0.0.1', rtpPortMin: range.min, rtpPortMax: range.max, rtpTimeoutMs: 0 });
  await engine.start();
});
after(() => engine.stop());

/** Just enough of a SIP UAS for SIPp to set up a call: INVITE → 200 with the endpoint's SDP; BYE → 200. */
async function miniUas(onEndpoint: (ep: MediaEndpoint) => void): Promise<{ port: number; close: () => void }> {
  const sock = dgram.createSocket('udp4');
  const port = await freePort();
  await new Promise<void>((r) => sock.bind(port, '127.0.0.1', () => r()));
  const answered = new Map<string, Buffer>();
  const endpoints = new Map<string, MediaEndpoint>();
  sock.on('message', async (m, rinfo) => {
    const text = m.toString('utf8');
    const [head, body = ''] = text.split('\r\n\r\n');
    const lines = head!.split('\r\n');
    const hdr = (name: string): string => lines.filter((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':')).map((l) => l.slice(name.length + 1).trim())[0] ?? '';
    const vias = lines.filter((l) => /^via:/i.test(l));
    const callId = hdr('Call-ID');
    const reply = (status: string, extra: string[] = [], sdp = ''): Buffer =>
      Buffer.from(
        [`SIP/2.0 ${status}`, ...vias, `From: ${hdr('From')}`, `To: ${hdr('To')}${/tag=/.test(hdr('To')) ? '' : ';tag=uas1'}`, `Call-ID: ${callId}`, `CSeq: ${hdr('CSeq')}`, ...extra, `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'),
      );
    if (lines[0]!.startsWith('INVITE')) {
      let res = answered.get(callId);
      if (!res) {
        const ep = await engine.openEndpoint({ callId, remoteSdp: body });
        endpoints.set(callId, ep);
        onEndpoint(ep);
        res = reply('200 OK', [`Contact: <sip:uas@127.0.0.1:${port}>`, 'Content-Type: application/sdp'], ep.localSdp);
        answered.set(callId, res);
      }
      sock.send(res, rinfo.port, rinfo.address);
    } else if (lines[0]!.startsWith('BYE')) {
      sock.send(reply('200 OK'), rinfo.port, rinfo.address);
      await endpoints.get(callId)?.close();
    }
  });
  return { port, close: () => sock.close() };
}

const scenario = (pcap: string): string => `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="rfc4733 from a capture">
  <send retrans="500"><![CDATA[
INVITE sip:media@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:media@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: sip:sipp@[local_ip]:[local_port]
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=sipp 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
]]></send>
  <recv response="200"/>
  <send><![CDATA[
ACK sip:media@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:media@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <nop><action><exec play_pcap_audio="${pcap}"/></action></nop>
  <pause milliseconds="800"/>
  <send retrans="500"><![CDATA[
BYE sip:media@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:media@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
`;

test('SIPp play_pcap_audio of dtmf_2833_1.pcap: the engine reports digit 1 (RFC 4733)', async () => {
  const dir = tempDir('media-sipp-');
  const file = path.join(dir, 'dtmf.xml');
  fs.writeFileSync(file, scenario(PCAP));
  const digits: string[] = [];
  let endpoint: MediaEndpoint | undefined;
  const uas = await miniUas((ep) => {
    endpoint = ep;
    ep.on('dtmf', (d, info) => digits.push(`${d}/${info.method}`));
  });
  try {
    const sipPort = await freePort();
    const mediaPort = await freePort();
    const sipp = spawn('sipp', ['-sf', file, '-m', '1', '-i', '127.0.0.1', '-p', String(sipPort), '-mi', '127.0.0.1', '-mp', String(mediaPort), '-timeout', '20s', '-timeout_error', '-nostdin', `127.0.0.1:${uas.port}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    sipp.stdout.on('data', (d: Buffer) => (out += d.toString()));
    sipp.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => sipp.once('exit', r));
    assert.equal(code, 0, `sipp failed:\n${out.slice(-3000)}`);
    assert.ok(endpoint, 'SIPp reached the endpoint');
    assert.deepEqual(digits, ['1/rfc4733']);
  } finally {
    uas.close();
  }
});

test('in-band DTMF from a sox-generated WAV is detected', async () => {
  const dir = tempDir('media-sox-');
  const keys: [string, number, number][] = [['1', 697, 1209], ['5', 770, 1336], ['9', 852, 1477], ['*', 941, 1209], ['0', 941, 1336], ['#', 941, 1477]];
  const parts: Int16Array[] = [];
  for (const [k, r, c] of keys) {
    const f = path.join(dir, `k${keys.findIndex((x) => x[0] === k)}.wav`);
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', f, 'synth', '0.1', 'sine', String(r), 'sine', String(c), 'pad', '0', '0.06']);
    parts.push(readPcm16Mono(fs.readFileSync(f)).samples);
  }
  const pcm = Int16Array.from(parts.flatMap((p) => [...p]));
  const pa = await RtpPeer.open();
  const pb = await RtpPeer.open();
  try {
    const a = await engine.openEndpoint({ callId: 'sox', remoteSdp: pa.sdp({ pts: [8] }) });
    const b = await engine.openEndpoint({ callId: 'sox', remoteSdp: pb.sdp({ pts: [0] }) });
    await a.bridge(b);
    const got: string[] = [];
    a.on('dtmf', (d, info) => got.push(`${d}/${info.method}`));
    for (let k = 0; k + 160 <= pcm.length; k += 160) pa.send(a.local.port, 8, encode(pcm.subarray(k, k + 160), 'a'));
    await pa.waitFor(() => got.length >= keys.length, `${keys.length} digits`);
    assert.deepEqual(got, keys.map(([k]) => `${k}/inband`));
    await a.close();
    await b.close();
  } finally {
    pa.close();
    pb.close();
  }
});
