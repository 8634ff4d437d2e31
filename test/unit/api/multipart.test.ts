// The strict multipart/form-data parser against what browsers and curl send, and against broken bodies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelaisError } from '../../../services/shared/index.js';
import { parseMultipart } from '../../../services/api/index.js';

const CT = 'multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW';
const B = '------WebKitFormBoundary7MA4YWxkTrZu0gW';

function body(...parts: string[]): Buffer {
  return Buffer.from(parts.join('\r\n'), 'latin1');
}

test('fields and one file, binary data kept byte for byte (CRLF and boundary-like bytes inside)', () => {
  const bin = '\x00\xff\r\n--not-the-boundary\r\n\x01';
  const form = parseMultipart(
    body(
      B,
      'Content-Disposition: form-data; name="name"',
      '',
      'Accueil',
      B,
      'Content-Disposition: form-data; name="file"; filename="a b.wav"',
      'Content-Type: audio/wav',
      '',
      bin,
      `${B}--`,
      '',
    ),
    CT,
  );
  assert.equal(form.fields.get('name'), 'Accueil');
  assert.equal(form.files.length, 1);
  assert.equal(form.files[0]!.filename, 'a b.wav');
  assert.equal(form.files[0]!.contentType, 'audio/wav');
  assert.ok(form.files[0]!.data.equals(Buffer.from(bin, 'latin1')));
});

test('a quoted boundary, a preamble, and UTF-8 field values', () => {
  const form = parseMultipart(
    Buffer.concat([Buffer.from('preamble\r\n--abc\r\nContent-Disposition: form-data; name="name"\r\n\r\n'), Buffer.from('Été'), Buffer.from('\r\n--abc--\r\n')]),
    'multipart/form-data; boundary="abc"',
  );
  assert.equal(form.fields.get('name'), 'Été');
});

const bad: [string, string, Buffer][] = [
  ['no boundary parameter', 'multipart/form-data', body('--x', '')],
  ['no delimiter at all', 'multipart/form-data; boundary=x', Buffer.from('hello')],
  ['truncated (no closing delimiter)', 'multipart/form-data; boundary=x', body('--x', 'Content-Disposition: form-data; name="a"', '', 'value')],
  ['headers never end', 'multipart/form-data; boundary=x', body('--x', 'Content-Disposition: form-data; name="a"')],
  ['part without a name', 'multipart/form-data; boundary=x', body('--x', 'Content-Disposition: form-data', '', 'v', '--x--')],
  ['not form-data', 'multipart/form-data; boundary=x', body('--x', 'Content-Disposition: attachment; name="a"', '', 'v', '--x--')],
  ['header line without colon', 'multipart/form-data; boundary=x', body('--x', 'garbage', '', 'v', '--x--')],
  ['boundary line not ending in CRLF', 'multipart/form-data; boundary=x', Buffer.from('--xjunk\r\n\r\n--x--')],
];

for (const [what, ct, b] of bad) {
  test(`refused: ${what}`, () => {
    assert.throws(() => parseMultipart(b, ct), (e: unknown) => e instanceof RelaisError && e.code === 'api.multipart_invalid' && e.status === 400);
  });
}

test('refused: a field given twice, too many parts', () => {
  assert.throws(
    () => parseMultipart(body('--x', 'Content-Disposition: form-data; name="a"', '', '1', '--x', 'Content-Disposition: form-data; name="a"', '', '2', '--x--'), 'multipart/form-data; boundary=x'),
    (e: unknown) => e instanceof RelaisError && e.code === 'api.field_repeated' && e.field === 'a',
  );
  const parts: string[] = [];
  for (let i = 0; i < 20; i++) parts.push('--x', `Content-Disposition: form-data; name="f${i}"`, '', 'v');
  parts.push('--x--');
  assert.throws(() => parseMultipart(body(...parts), 'multipart/form-data; boundary=x'), /more than 16 parts/);
});
