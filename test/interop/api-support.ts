// Shared by the API interop tests: a site with console users, JSON requests with session or Basic credentials.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

export const ADMIN = { username: 'admin', password: 'test-admin-pw' };
/** A user with the "sounds" right only, owning extension 201. */
export const ALICE = { username: 'alice', password: 'alice-password' };
/** A user with no rights. */
export const BOB = { username: 'bob', password: 'bob-password' };

/** Site file: alice (sounds) with extension 201 (voicemail on), bob (no rights), extensions 202 and 203 (voicemail on), number +33100000009 assigned to alice. */
export function writeApiSite(dir: string): string {
  const file = path.join(dir, 'site.yaml');
  fs.writeFileSync(
    file,
    [
      'version: 1',
      'settings:',
      '  name: api interop',
      '  language: en',
      'users:',
      `  - username: ${ALICE.username}`,
      '    name: Alice',
      `    password: ${ALICE.password}`,
      '    rights: [sounds]',
      `  - username: ${BOB.username}`,
      '    name: Bob',
      `    password: ${BOB.password}`,
      'extensions:',
      '  - number: "201"',
      '    display_name: Alice',
      '    secret: secret-201',
      '    digest_algorithm: MD5',
      '    voicemail: true',
      '    user: alice',
      '  - number: "202"',
      '    display_name: Desk',
      '    secret: secret-202',
      '    digest_algorithm: MD5',
      '    voicemail: false',
      '  - number: "203"',
      '    display_name: Mailbox',
      '    secret: secret-203',
      '    digest_algorithm: MD5',
      '    voicemail: true',
      'numbers:',
      '  - did: "+33100000009"',
      '    name: Sales line',
      '    users: [alice]',
      '',
    ].join('\n'),
  );
  return file;
}

export function basic(user: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
}

export interface ApiError {
  error: { code: string; message: string; field?: string };
}

/** fetch → status and parsed JSON body (asserting the body is JSON when there is one). */
export async function call(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: Record<string, unknown> = {};
  if (text) {
    assert.match(res.headers.get('content-type') ?? '', /application\/json/, `${init.method ?? 'GET'} ${url} answers JSON: ${text.slice(0, 200)}`);
    json = JSON.parse(text) as Record<string, unknown>;
  }
  return { status: res.status, headers: res.headers, json };
}

/** Asserts a JSON error of this status and code (and field, when given). */
export function assertError(r: { status: number; json: Record<string, unknown> }, status: number, code: string, field?: string): void {
  const e = (r.json as unknown as ApiError).error;
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.ok(e && typeof e.message === 'string' && e.message.length > 0, `an error body: ${JSON.stringify(r.json)}`);
  assert.equal(e.code, code, JSON.stringify(r.json));
  if (field !== undefined) assert.equal(e.field, field, JSON.stringify(r.json));
}

export function jsonInit(method: string, body: unknown, auth?: string): RequestInit {
  return { method, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) } };
}
