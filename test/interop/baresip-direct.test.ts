// Proves the test phone harness itself: two baresip phones call each other directly (no Relais), audio and DTMF checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { BaresipPhone } from '../helpers/baresip.js';
import { analyseWav, makeToneWav } from '../helpers/audio.js';
import { tempDir } from '../helpers/relais-process.js';

test('baresip harness: direct call carries the caller tone, DTMF event and hangup reach the callee', async () => {
  const dir = tempDir('baresip-direct-');
  const tone = makeToneWav(path.join(dir, 'tone1k.wav'), 1000, 30);
  const quiet = makeToneWav(path.join(dir, 'tone440.wav'), 440, 30);
  const a = await BaresipPhone.start({ name: 'a', account: { user: 'a', registrar: '127.0.0.1' }, audioFile: tone });
  const b = await BaresipPhone.start({ name: 'b', account: { user: 'b', registrar: '127.0.0.1' }, audioFile: quiet });
  try {
    await a.dial(`sip:b@127.0.0.1:${b.sipPort}`);
    await b.acceptIncoming();
    await Promise.all([a.established(), b.established()]);
    await b.waitEvent('CALL_RTPESTAB');
    await a.sendDtmf('5');
    const dtmf = await b.waitEvent('CALL_DTMF_START');
    assert.equal(dtmf.param, '5');
    // 1.5 s of audio received, observed on the growing recording (8 kHz 16-bit: 16 000 bytes/s)
    const size = (f: string | undefined): number => (f && fs.existsSync(f) ? fs.statSync(f).size : 0);
    const deadline = Date.now() + 10_000;
    while (size(b.receivedRecordings()[0]) < 44 + 24_000) {
      assert.ok(Date.now() < deadline, 'callee received 1.5 s of audio');
      await new Promise((r) => setTimeout(r, 50));
    }
    await a.hangup();
    const closed = await b.closed();
    assert.match(String(closed.param), /reset by peer/i);
    const [rec] = b.receivedRecordings();
    assert.ok(rec, 'callee wrote a received-audio WAV');
    const an = analyseWav(rec, { skipMs: 200 });
    assert.ok(Math.abs(an.dominantHz - 1000) <= 20, `dominant ${an.dominantHz} Hz`);
    assert.ok(an.dominantShare > 0.8, `share ${an.dominantShare}`);
    const [recA] = a.receivedRecordings();
    assert.ok(Math.abs(analyseWav(recA!, { skipMs: 200 }).dominantHz - 440) <= 20);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});
