// SIP stack bench (no registrar, no digest, no media): message parse rate, REGISTER/s and B2BUA calls/s of SipStack alone.
// Usage: node dist/test/bench/sip-stack-bench.js [--register-rate 8000] [--cps 400] [--duration 10] [--out FILE]
// Complements scripts/bench sip (full Relais against Kamailio): this isolates what the stack itself costs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger } from '../../services/shared/index.js';
import { SipResponse, SipStack, parseMessage } from '../../services/sip/index.js';
import { freePort } from '../helpers/ports.js';
import { runSipp, startSipp, describeSipp } from '../helpers/sipp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SCENARIOS = path.join(ROOT, 'test/bench/sipp');
const argv = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
};
const REG_RATE = Number(opt('--register-rate', '8000'));
const CPS = Number(opt('--cps', '400'));
const DURATION = Number(opt('--duration', '10'));
const date = new Date().toISOString();
const OUT = path.resolve(opt('--out', path.join(ROOT, 'test/bench/results', `sip-stack-${date.slice(0, 10)}.json`)));

const REGISTER = Buffer.from(
  [
    'REGISTER sip:pbx.example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bK1234;rport',
    'From: "Alice" <sip:201@pbx.example.com>;tag=abc',
    'To: <sip:201@pbx.example.com>',
    'Call-ID: reg-1@192.168.1.20',
    'CSeq: 3 REGISTER',
    'Contact: <sip:201@192.168.1.20:5062;transport=udp>;expires=600',
    'Max-Forwards: 70',
    'Expires: 3600',
    'User-Agent: Yealink SIP-T46S 66.85.0.5',
    'Authorization: Digest username="201", realm="pbx.example.com", nonce="abcdef0123456789", uri="sip:pbx.example.com", response="0123456789abcdef0123456789abcdef", algorithm=MD5, cnonce="xyz", qop=auth, nc=00000001',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
);

function parseRate(): { parsePerS: number; parseRespondPerS: number } {
  const n = 200_000;
  let t0 = performance.now();
  for (let i = 0; i < n; i++) parseMessage(REGISTER);
  const parsePerS = Math.round((n / (performance.now() - t0)) * 1000);
  t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const m = parseMessage(REGISTER);
    m.contacts();
    const r = SipResponse.to(m as never, 200, undefined, 'tag');
    r.append('contact', '<sip:201@192.168.1.20:5062>;expires=600');
    r.serialize();
  }
  return { parsePerS, parseRespondPerS: Math.round((n / (performance.now() - t0)) * 1000) };
}

async function withStack<T>(setup: (s: SipStack) => void, run: (s: SipStack) => Promise<T>): Promise<T & { cpuMs: number; heapMB: number }> {
  const s = new SipStack({ bind: '127.0.0.1', port: await freePort(), domain: 'bench.local', logger: new Logger('warn') });
  setup(s);
  await s.start();
  const cpu0 = process.cpuUsage();
  try {
    const out = await run(s);
    const cpu = process.cpuUsage(cpu0);
    return { ...out, cpuMs: Math.round((cpu.user + cpu.system) / 1000), heapMB: Math.round(process.memoryUsage().heapUsed / 1e6) };
  } finally {
    await s.stop();
  }
}

async function main(): Promise<void> {
  const parse = parseRate();
  process.stderr.write(`parse: ${JSON.stringify(parse)}\n`);

  const regCalls = REG_RATE * DURATION;
  const register = await withStack(
    (s) => s.use('REGISTER', (req, res) => void res.send(200, undefined, { headers: { Contact: req.msg.getAll('contact'), Expires: 3600 } })),
    async (s) => {
      const r = await runSipp({
        scenario: path.join(SCENARIOS, 'stack-register.xml'),
        target: `127.0.0.1:${s.port()}`,
        calls: regCalls,
        rate: REG_RATE,
        timeoutS: DURATION * 3 + 10,
        extraArgs: ['-l', String(REG_RATE * 4)],
      });
      if (r.code !== 0 && r.successful === 0) throw new Error(describeSipp(r));
      return { offeredPerS: REG_RATE, successful: r.successful, failed: r.failed };
    },
  );
  process.stderr.write(`register: ${JSON.stringify(register)}\n`);

  const calls = CPS * DURATION;
  const uasPort = await freePort();
  const b2bua = await withStack(
    (s) =>
      s.use('INVITE', async (req, res) => {
        await s.createB2bua(req, res, `sip:callee@127.0.0.1:${uasPort}`).catch(() => {});
      }),
    async (s) => {
      const uas = await startSipp({ scenario: path.join(SCENARIOS, 'stack-uas.xml'), localPort: uasPort, calls, timeoutS: DURATION * 3 + 20 });
      const r = await runSipp({
        scenario: path.join(SCENARIOS, 'stack-uac.xml'),
        target: `127.0.0.1:${s.port()}`,
        service: 'callee',
        calls,
        rate: CPS,
        timeoutS: DURATION * 3 + 10,
        extraArgs: ['-l', String(CPS * 10)],
      });
      uas.kill();
      return { offeredCps: CPS, successful: r.successful, failed: r.failed };
    },
  );
  process.stderr.write(`b2bua: ${JSON.stringify(b2bua)}\n`);

  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    /* not a git checkout */
  }
  const result = {
    bench: 'sip-stack',
    date,
    commit,
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.release()}` },
    durationS: DURATION,
    parse,
    register: { ...register, cpuPerRegisterUs: register.successful ? Math.round((register.cpuMs * 1000) / register.successful) : null },
    b2bua: { ...b2bua, cpuPerCallMs: b2bua.successful ? +(b2bua.cpuMs / b2bua.successful).toFixed(3) : null },
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`sip-stack bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
