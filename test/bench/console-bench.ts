// scripts/bench console: the console's bundle size, time to first paint of the dashboard in Chromium, API latency
// under mixed reads, event fan-out to 50 WebSockets. Results in test/bench/results/console-<date>.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execSync } from 'node:child_process';
import WebSocket from 'ws';
import { PROJECT_ROOT, startRelais, tempDir } from '../helpers/relais-process.js';
import { writeApiSite, ADMIN } from '../interop/api-support.js';
import { launchChromium } from '../e2e/browser.js';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number): number => Math.round(n * 100) / 100;

async function main(): Promise<void> {
  const build = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'web-ui/dist/build.json'), 'utf8')) as { firstPageGzipBytes: number; totalGzipBytes: number };
  const dir = tempDir('bench-console-');
  const relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', writeApiSite(dir), '--domain', '127.0.0.1'] });
  const api = `${relais.url}/api`;
  try {
    const login = await fetch(`${api}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
    const { token } = (await login.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };

    // 1. First paint of the dashboard: a fresh load each time (cache disabled), logged in by cookie.
    const browser = await launchChromium();
    const paints: { fcp: number; dashboard: number }[] = [];
    try {
      const page = browser.page;
      await page.goto(relais.url);
      await page.getByLabel('Username').fill(ADMIN.username);
      await page.getByLabel('Password').fill(ADMIN.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
      const cdp = await browser.context.newCDPSession(page);
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      for (let i = 0; i < 7; i++) {
        await page.reload();
        await page.getByRole('heading', { name: 'Calls in progress' }).waitFor();
        const m = (await page.evaluate(`(() => {
          const fcp = performance.getEntriesByName('first-contentful-paint')[0];
          return { fcp: fcp ? fcp.startTime : NaN, dashboard: performance.now() };
        })()`)) as { fcp: number; dashboard: number };
        paints.push(m);
      }
    } finally {
      await browser.close();
    }
    const fcp = paints.map((p) => p.fcp).sort((a, b) => a - b);
    const dash = paints.map((p) => p.dashboard).sort((a, b) => a - b);

    // 2. API latency: 100 requests/s of mixed reads for 10 s.
    const paths = ['/calls?limit=50', '/extensions', '/users', '/system/health', '/settings', '/sounds', '/session'];
    const latencies: number[] = [];
    let errors = 0;
    const rate = 100;
    const seconds = 10;
    const pending: Promise<void>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < rate * seconds; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const p = paths[i % paths.length]!;
      const start = performance.now();
      pending.push(
        fetch(`${api}${p}`, { headers: auth }).then(
          async (r) => {
            await r.arrayBuffer();
            if (!r.ok) errors++;
            latencies.push(performance.now() - start);
          },
          () => void errors++,
        ),
      );
    }
    await Promise.all(pending);
    latencies.sort((a, b) => a - b);

    // 3. Fan-out: 50 sockets, 20 config changes; delay from the event's publication to its arrival on each socket.
    const sockets: WebSocket[] = [];
    const delays: number[] = [];
    for (let i = 0; i < 50; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${relais.httpPort}/api/events`, { headers: auth });
      await new Promise<void>((resolve, reject) => {
        ws.once('message', () => resolve());
        ws.once('error', reject);
      });
      ws.on('message', (data) => {
        const e = JSON.parse(data.toString()) as { type: string; at: number };
        if (e.type === 'config.changed') delays.push(Date.now() - e.at);
      });
      sockets.push(ws);
    }
    for (let i = 0; i < 20; i++) {
      await fetch(`${api}/settings`, { method: 'PATCH', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: `Bench ${i}` }) });
    }
    const deadline = Date.now() + 10_000;
    while (delays.length < 50 * 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const ws of sockets) ws.close();
    delays.sort((a, b) => a - b);

    let commit = 'unknown';
    try {
      commit = execSync('git rev-parse --short HEAD', { cwd: PROJECT_ROOT }).toString().trim();
    } catch {
      /* not a checkout */
    }
    const result = {
      bench: 'console',
      date: new Date().toISOString(),
      commit,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', memGB: Math.round(os.totalmem() / 2 ** 30), load1: os.loadavg()[0] },
      bundle: { firstPageGzipKB: round(build.firstPageGzipBytes / 1024), totalGzipKB: round(build.totalGzipBytes / 1024), goalKB: 150 },
      dashboardPaint: { runs: paints.length, fcpMedianMs: round(percentile(fcp, 50)), dashboardReadyMedianMs: round(percentile(dash, 50)), dashboardReadyMaxMs: round(dash.at(-1)!) },
      apiMixedReads: { ratePerSecond: rate, seconds, requests: latencies.length, errors, p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)), maxMs: round(latencies.at(-1) ?? NaN), callsUp: 0 },
      eventFanOut: { sockets: 50, events: 20, delivered: delays.length, p50Ms: percentile(delays, 50), p99Ms: percentile(delays, 99), maxMs: delays.at(-1) ?? null },
    };
    const out = path.join(PROJECT_ROOT, 'test/bench/results', `console-${result.date.slice(0, 10)}.json`);
    fs.writeFileSync(out, `${JSON.stringify(result, null, 1)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 1)}\nwritten to ${out}\n`);
  } finally {
    await relais.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench console: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
