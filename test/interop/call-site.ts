// Site files for the call interop tests: extensions with known secrets (MD5 digest, as SIPp and baresip need).
import fs from 'node:fs';
import path from 'node:path';

export interface TestExtension {
  number: string;
  name: string;
  secret: string;
  voicemail?: boolean;
  pin?: string;
  /** Username of the extension's user (created in the site's users section). */
  user?: string;
}

export function ext(number: string, name: string, opts: { voicemail?: boolean; pin?: string; user?: string } = {}): TestExtension {
  return { number, name, secret: `secret-${number}`, ...opts };
}

/** Writes a site file applied by `relais serve --site FILE` on the first start of an empty data dir. */
export function writeSite(dir: string, extensions: TestExtension[], language = 'en', extraYaml = ''): string {
  const lines = ['version: 1', 'settings:', '  name: call interop', `  language: ${language}`];
  const users = extensions.filter((e) => e.user);
  if (users.length) {
    lines.push('users:');
    for (const e of users) lines.push(`  - username: ${e.user}`, `    name: ${e.name}`);
  }
  lines.push('extensions:');
  for (const e of extensions) {
    lines.push(`  - number: "${e.number}"`, `    display_name: ${e.name}`, `    secret: ${e.secret}`, '    digest_algorithm: MD5', `    voicemail: ${e.voicemail ? 'true' : 'false'}`);
    if (e.pin) lines.push(`    voicemail_pin: "${e.pin}"`);
    if (e.user) lines.push(`    user: ${e.user}`);
  }
  if (extraYaml) lines.push(extraYaml.trimEnd());
  const file = path.join(dir, 'site.yaml');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
