// POST /api/sounds/tts over real HTTP: a sound spoken by espeak-ng in French, English and Spanish, stored and playable;
// hold music gets the royalties notice; bad input named (400), a taken name refused (409), the "sounds" right required.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startRelais, tempDir, type RelaisProcess } from '../helpers/relais-process.js';
import { ADMIN, ALICE, BOB, assertError, basic, call, jsonInit, writeApiSite } from './api-support.js';

let relais: RelaisProcess;
let url: string;

before(async () => {
  const dir = tempDir('tts-api-');
  relais = await startRelais({ dataDir: path.join(dir, 'data'), args: ['--site', writeApiSite(dir), '--domain', '127.0.0.1'] });
  url = `${relais.url}/api/sounds/tts`;
});

after(async () => {
  await relais?.stop();
});

test('text to speech: FR/EN/ES sounds are made, stored and play; hold music gets the notice', async () => {
  for (const [language, text] of [
    ['fr', 'Bonjour, vous êtes bien au cabinet Martin.'],
    ['en', 'Hello, you have reached the Martin office.'],
    ['es', 'Hola, ha llamado a la oficina Martin.'],
  ] as const) {
    const r = await call(url, jsonInit('POST', { name: `Welcome ${language}`, text, language }, basic(ALICE)));
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const s = r.json.sound as { name: string; language: string; durationMs: number; audio: string; kind: string };
    assert.equal(s.language, language);
    assert.equal(s.kind, 'prompt');
    assert.ok(s.durationMs > 1000, `${language}: ${s.durationMs} ms of speech`);
    const audio = await fetch(`${relais.url}${s.audio}`, { headers: { authorization: basic(ALICE) } });
    assert.equal(audio.status, 200);
    const wav = Buffer.from(await audio.arrayBuffer());
    assert.equal(wav.subarray(0, 4).toString(), 'RIFF');
    assert.equal(wav.readUInt32LE(24), 8000, '8 kHz like every sound');
  }
  const moh = await call(url, jsonInit('POST', { name: 'Spoken hold', text: 'Please hold.', language: 'en', kind: 'moh' }, basic(ALICE)));
  assert.equal(moh.status, 201);
  assert.match(String(moh.json.notice), /royalties/);
});

test('text to speech: bad input named, a taken name refused, the sounds right required', async () => {
  assertError(await call(url, jsonInit('POST', { name: 'X', text: '   ', language: 'fr' }, basic(ADMIN))), 400, 'api.field_invalid', 'text');
  assertError(await call(url, jsonInit('POST', { name: 'X', text: 'Hallo', language: 'de' }, basic(ADMIN))), 400, 'api.field_invalid', 'language');
  assertError(await call(url, jsonInit('POST', { name: 'X', text: 'x'.repeat(501), language: 'en' }, basic(ADMIN))), 400, 'api.field_too_long', 'text');
  assertError(await call(url, jsonInit('POST', { text: 'Hello', language: 'en' }, basic(ADMIN))), 400, 'api.field_missing', 'name');
  assertError(await call(url, jsonInit('POST', { name: 'Welcome en', text: 'Again', language: 'en' }, basic(ADMIN))), 409, 'sound.exists', 'name');
  const replaced = await call(url, jsonInit('POST', { name: 'Welcome en', text: 'Hello again.', language: 'en', replace: true }, basic(ADMIN)));
  assert.equal(replaced.status, 201, JSON.stringify(replaced.json));
  assert.equal((await call(url, jsonInit('POST', { name: 'Y', text: 'Hello', language: 'en' }, basic(BOB)))).status, 403);
});
