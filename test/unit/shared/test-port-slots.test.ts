// The test helper's machine-wide slot locks (test/helpers/ports.ts): test processes that start together and find
// only slots left by dead processes take them over, each a different one (two sharing an RTP range clash on their
// ports). The take-over's own race (two processes between the staleness check and the write) is too narrow to hit
// from here; the guard directory that closes it is checked to be gone afterwards.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const PORTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../helpers/ports.js');
const SLOTS = 63; // (32700 - 20000) / 200, as in ports.ts

function claimInChild(lockDir: string): Promise<{ min: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(PORTS)}); console.log(JSON.stringify(m.rtpRange())); setTimeout(() => {}, 300);`], {
      env: { ...process.env, RELAIS_TEST_LOCK_DIR: lockDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { min: number }) : reject(new Error(`claim exited ${code}: ${out}`))));
  });
}

test('processes that find only dead processes\' slot locks each take a different slot', async () => {
  const lockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'relais-slot-test-'));
  try {
    // A pid that is certainly dead: a process that has exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    fs.mkdirSync(path.join(lockDir, 'rtp-slots'), { recursive: true });
    for (let i = 0; i < SLOTS; i++) fs.writeFileSync(path.join(lockDir, 'rtp-slots', String(i)), dead);
    const ranges = await Promise.all(Array.from({ length: 8 }, () => claimInChild(lockDir)));
    const mins = ranges.map((r) => r.min);
    assert.equal(new Set(mins).size, mins.length, `two processes got the same RTP range: ${mins.join(', ')}`);
    // No take-over guard is left behind.
    assert.deepEqual(fs.readdirSync(path.join(lockDir, 'rtp-slots')).filter((f) => f.endsWith('.takeover')), []);
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
});
