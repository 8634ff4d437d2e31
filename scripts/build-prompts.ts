// Generates the system prompts (dist/prompts/<lang>/<key>.wav) offline with espeak-ng + sox; only changed ones.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promptJobs } from '../services/media/sounds/prompt-texts.js';
import { DEFAULT_PROMPTS_DIR } from '../services/media/sounds/prompts.js';
import { LANGUAGES, SPEECH_RATE, VOICES, synthesize } from '../services/media/sounds/tts.js';
import { DEFAULT_MOH_NAME, defaultMohRecipeHash, generateDefaultMoh } from '../services/media/sounds/default-moh.js';

interface Manifest {
  [file: string]: string;
}

async function main(): Promise<void> {
  const dir = process.argv[2] ? path.resolve(process.argv[2]) : DEFAULT_PROMPTS_DIR;
  const manifestFile = path.join(dir, 'manifest.json');
  let old: Manifest = {};
  try {
    old = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
  } catch {
    /* first build */
  }
  const wanted: Manifest = {};
  const todo: { lang: (typeof LANGUAGES)[number]; text: string; file: string }[] = [];
  for (const lang of LANGUAGES) {
    fs.mkdirSync(path.join(dir, lang), { recursive: true });
    for (const job of promptJobs(lang)) {
      const rel = `${lang}/${job.key}.wav`;
      const hash = createHash('sha256').update(`${VOICES[lang]}|${SPEECH_RATE}|norm-3|${job.text}`).digest('hex').slice(0, 16);
      wanted[rel] = hash;
      if (old[rel] !== hash || !fs.existsSync(path.join(dir, rel))) todo.push({ lang, text: job.text, file: path.join(dir, rel) });
    }
  }
  // Files of prompts that no longer exist.
  for (const rel of Object.keys(old)) if (!(rel in wanted) && rel !== DEFAULT_MOH_NAME) fs.rmSync(path.join(dir, rel), { force: true });

  const started = Date.now();
  const width = Math.max(2, os.cpus().length * 2);
  let next = 0;
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: Math.min(width, todo.length) }, async () => {
      while (next < todo.length) {
        const j = todo[next++]!;
        try {
          await synthesize(j.lang, j.text, j.file);
        } catch (err) {
          failures.push(`${path.relative(dir, j.file)}: ${(err as Error).message}`);
        }
      }
    }),
  );
  if (failures.length) {
    // Keep the manifest of what succeeded so a rerun only retries the failures.
    for (const f of failures) delete wanted[f.split(':')[0]!];
    fs.writeFileSync(manifestFile, JSON.stringify(wanted, null, 1));
    process.stderr.write(`build-prompts: ${failures.length} prompt(s) failed:\n  ${failures.slice(0, 10).join('\n  ')}\n`);
    process.exit(1);
  }
  await buildDefaultMoh(dir, old, wanted);
  fs.writeFileSync(manifestFile, JSON.stringify(wanted, null, 1));
  if (todo.length) process.stdout.write(`build-prompts: ${todo.length} prompt(s) generated in ${Date.now() - started} ms into ${dir}\n`);
}

/**
 * The default music on hold (docs/queues.md): regenerated when its recipe changes. A failure (no sox on an appliance
 * build) only warns: calls then hold in silence, as before there was a default.
 */
async function buildDefaultMoh(dir: string, old: Manifest, wanted: Manifest): Promise<void> {
  const hash = defaultMohRecipeHash();
  const file = path.join(dir, DEFAULT_MOH_NAME);
  if (old[DEFAULT_MOH_NAME] === hash && fs.existsSync(file)) {
    wanted[DEFAULT_MOH_NAME] = hash;
    return;
  }
  try {
    await generateDefaultMoh(file);
    wanted[DEFAULT_MOH_NAME] = hash;
    process.stdout.write(`build-prompts: default music on hold generated into ${file}\n`);
  } catch (err) {
    process.stderr.write(`build-prompts: WARNING default music on hold not generated (${(err as Error).message}): held calls will hear silence\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`build-prompts: ${(err as Error).message}\n`);
  process.exit(1);
});
