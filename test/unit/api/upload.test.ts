// Streaming uploads (busboy): what browsers and curl send lands on disk byte for byte; broken forms are 400, a file past
// the limit 413 and a stalled upload 408, each leaving no temporary file behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { RelaisError } from '../../../services/shared/index.js';
import { receiveMultipart, receiveRaw, type MultipartLimits } from '../../../services/api/index.js';
import { tempDir } from '../../helpers/relais-process.js';

const dir = tempDir('upload-');
let server: http.Server;
let url = '';
let limits: Partial<MultipartLimits> & { raw?: boolean } = {};

before(async () => {
  server = http.createServer((req, res) => {
    const ctx = { req, get: (h: string) => String(req.headers[h.toLowerCase()] ?? '') } as never;
    const work = limits.raw
      ? receiveRaw(ctx, path.join(dir, 'raw.bin'), { maxBytes: limits.maxFileBytes ?? 1024, idleMs: limits.idleMs ?? 5000 }).then((size) => ({ size }))
      : receiveMultipart(ctx, { fileField: 'file', fields: ['name'], maxFileBytes: 1024, tmpDir: dir, idleMs: 5000, ...limits }).then((f) => ({
          fields: Object.fromEntries(f.fields),
          file: f.file && { filename: f.file.filename, contentType: f.file.contentType, size: f.file.size, data: readAndRemove(f.file.path) },
        }));
    work.then(
      (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      (err: unknown) => {
        const e = err instanceof RelaisError ? err : new RelaisError('test', String(err), { status: 500 });
        res.writeHead(e.status, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ code: e.code, field: e.field, message: e.message }));
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
});

after(() => server.close());

function readAndRemove(file: string): string {
  const data = fs.readFileSync(file).toString('base64');
  fs.rmSync(file);
  return data;
}

const leftovers = (): string[] => fs.readdirSync(dir).filter((f) => f.startsWith('.upload-'));

async function post(body: RequestInit['body'], headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(url, { method: 'POST', body, headers });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

function raw(...parts: string[]): Buffer {
  return Buffer.from(parts.join('\r\n'), 'latin1');
}

test('a browser form: a UTF-8 field and one file kept byte for byte (CRLF and boundary-like bytes inside)', async () => {
  limits = {};
  const bin = Buffer.from('\x00\xff\r\n--not-the-boundary\r\n\x01', 'latin1');
  const form = new FormData();
  form.append('name', 'Accueil été');
  form.append('file', new Blob([bin], { type: 'audio/wav' }), 'Accueil été.wav');
  const r = await post(form);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.deepEqual(r.json.fields, { name: 'Accueil été' });
  const file = r.json.file as { filename: string; contentType: string; size: number; data: string };
  assert.equal(file.filename, 'Accueil été.wav');
  assert.equal(file.contentType, 'audio/wav');
  assert.equal(file.size, bin.length);
  assert.ok(Buffer.from(file.data, 'base64').equals(bin));
});

const bad: [string, string, Buffer, number, string][] = [
  ['no boundary parameter', 'multipart/form-data', raw('--x', ''), 400, 'api.multipart_invalid'],
  ['truncated (no closing delimiter)', 'multipart/form-data; boundary=x', raw('--x', 'Content-Disposition: form-data; name="file"; filename="a.wav"', '', 'RIFF'), 400, 'api.multipart_invalid'],
  ['a field given twice', 'multipart/form-data; boundary=x', raw('--x', 'Content-Disposition: form-data; name="name"', '', '1', '--x', 'Content-Disposition: form-data; name="name"', '', '2', '--x--', ''), 400, 'api.field_repeated'],
  ['an unknown field', 'multipart/form-data; boundary=x', raw('--x', 'Content-Disposition: form-data; name="owner"', '', 'me', '--x--', ''), 400, 'api.field_unknown'],
  ['a file in another field', 'multipart/form-data; boundary=x', raw('--x', 'Content-Disposition: form-data; name="other"; filename="a"', '', 'v', '--x--', ''), 400, 'api.field_unknown'],
  [
    'two files',
    'multipart/form-data; boundary=x',
    raw('--x', 'Content-Disposition: form-data; name="file"; filename="a"', '', 'v', '--x', 'Content-Disposition: form-data; name="file"; filename="b"', '', 'w', '--x--', ''),
    400,
    'api.field_repeated',
  ],
  ['a file over the limit', 'multipart/form-data; boundary=x', raw('--x', 'Content-Disposition: form-data; name="file"; filename="big.wav"', '', 'x'.repeat(5000), '--x--', ''), 413, 'api.too_large'],
];

for (const [what, ct, body, status, code] of bad) {
  test(`refused: ${what} (${status} ${code}), no temporary file left`, async () => {
    limits = {};
    const r = await post(body, { 'content-type': ct });
    assert.equal(r.status, status, JSON.stringify(r.json));
    assert.equal(r.json.code, code, JSON.stringify(r.json));
    assert.deepEqual(leftovers(), []);
  });
}

test('refused at once: a declared Content-Length past the limit is 413 before any byte is stored', async () => {
  limits = {};
  const r = await post(Buffer.alloc(200_000), { 'content-type': 'multipart/form-data; boundary=x' });
  assert.equal(r.status, 413);
  assert.equal(r.json.code, 'api.too_large');
});

test('a stalled upload is dropped after the idle timeout (408), its temporary file removed', async () => {
  limits = { idleMs: 300 };
  const sock = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const head = raw('--x', 'Content-Disposition: form-data; name="file"; filename="slow.wav"', '', 'RIFF');
  sock.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 10000\r\n\r\n`);
  sock.write(head);
  let answer = '';
  sock.on('data', (d: Buffer) => (answer += d.toString()));
  await new Promise<void>((r) => sock.once('close', () => r()));
  assert.match(answer, /^HTTP\/1\.1 408/);
  assert.match(answer, /api\.upload_stalled/);
  assert.deepEqual(leftovers(), []);
});

test('a raw body streams to its file; past the limit 413 and the partial file removed', async () => {
  limits = { raw: true, maxFileBytes: 1024 };
  const ok = await post(Buffer.alloc(1000, 7), { 'content-type': 'application/octet-stream' });
  assert.deepEqual(ok.json, { size: 1000 });
  assert.equal(fs.statSync(path.join(dir, 'raw.bin')).size, 1000);
  fs.rmSync(path.join(dir, 'raw.bin'));
  // Chunked (no Content-Length): the limit is found while the bytes arrive.
  const big = new ReadableStream({
    start(c) {
      for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array(500));
      c.close();
    },
  });
  const r = await fetch(url, { method: 'POST', body: big, headers: { 'content-type': 'application/octet-stream' }, duplex: 'half' } as RequestInit);
  assert.equal(r.status, 413);
  assert.ok(!fs.existsSync(path.join(dir, 'raw.bin')));
});
