// The sound library: user sounds imported from MP3/WAV into <dataDir>/sounds/ as 8 kHz mono 16-bit WAV, with their rows.
import fs from 'node:fs';
import path from 'node:path';
import { NotFoundError, RelaisError, randomToken, type Clock, SystemClock } from '../../shared/index.js';
import type { Database } from '../../storage/index.js';
import { convertTo8kMonoWav, lastLine, ToolError } from './audio-convert.js';
import { SoundRepository, SOUND_KINDS, type Sound, type SoundKind } from '../../directory/index.js';
import { TextToSpeech } from './tts.js';
import { parseWav, telephoneFormatProblems } from './wav.js';

export interface SoundLibraryOptions {
  dataDir: string;
  db: Database;
  clock?: Clock;
  /** Longest accepted sound (default 30 min: long enough for music on hold). */
  maxDurationMs?: number;
  /** Largest accepted upload (default 100 MB). */
  maxBytes?: number;
  /** ffmpeg time limit per import (default 120 s). */
  convertTimeoutMs?: number;
}

export interface ImportOptions {
  /** File name shown in errors when the input is a Buffer (an upload's original name). */
  originalName?: string;
  language?: string | null;
}

const NAME_RE = /^[\p{L}\p{N}][\p{L}\p{N} _.'()-]{0,79}$/u;

export class SoundError extends RelaisError {
  constructor(message: string, field = 'file') {
    super('sound.invalid', message, { field });
    this.name = 'SoundError';
  }
}

/** What the first bytes say the file is: MP3 (ID3 tag or MPEG audio frame sync) or RIFF/WAVE. */
export function sniffAudio(head: Buffer): 'mp3' | 'wav' | undefined {
  if (head.length >= 12 && head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WAVE') return 'wav';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'ID3') return 'mp3';
  // MPEG audio frame header: 11 sync bits, a layer that is not "reserved" (ISO 11172-3 §2.4.2.3).
  if (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0 && (head[1]! & 0x06) !== 0) return 'mp3';
  return undefined;
}

export class SoundLibrary {
  readonly dir: string;
  readonly repo: SoundRepository;
  readonly speech: TextToSpeech;
  private readonly tmpDir: string;
  private readonly clock: Clock;
  private readonly maxDurationMs: number;
  private readonly maxBytes: number;
  private readonly convertTimeoutMs: number;

  constructor(opts: SoundLibraryOptions) {
    this.dir = path.join(opts.dataDir, 'sounds');
    this.tmpDir = path.join(this.dir, '.tmp');
    fs.mkdirSync(this.tmpDir, { recursive: true });
    this.clock = opts.clock ?? new SystemClock();
    const clock = this.clock;
    this.repo = new SoundRepository(opts.db, () => clock.now());
    this.maxDurationMs = opts.maxDurationMs ?? 30 * 60_000;
    this.maxBytes = opts.maxBytes ?? 100 * 1024 * 1024;
    this.convertTimeoutMs = opts.convertTimeoutMs ?? 120_000;
    this.speech = new TextToSpeech({ cacheDir: path.join(this.dir, 'tts') });
  }

  /**
   * Imports an MP3 or WAV (any rate, mono/stereo, 8/16/24-bit or float) as `name`, converted to 8 kHz mono 16-bit.
   * Replaces an existing sound of the same name. On any failure nothing is stored and a SoundError says why.
   */
  async import(input: string | Buffer, name: string, kind: SoundKind = 'prompt', opts: ImportOptions = {}): Promise<Sound> {
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      throw new SoundError(`sound name "${String(name)}" is not valid: 1-80 letters, digits, spaces, _ . ' ( ) -, starting with a letter or digit`, 'name');
    }
    if (!SOUND_KINDS.includes(kind)) throw new SoundError(`sound kind "${String(kind)}" is not one of ${SOUND_KINDS.join(', ')}`, 'kind');
    const shown = opts.originalName ?? (typeof input === 'string' ? path.basename(input) : name);

    const token = randomToken(6);
    const tmpIn = path.join(this.tmpDir, `${token}.in`);
    const tmpOut = path.join(this.tmpDir, `${token}.wav`);
    try {
      let head: Buffer;
      if (typeof input === 'string') {
        let st: fs.Stats;
        try {
          st = fs.statSync(input);
        } catch {
          throw new SoundError(`"${shown}" cannot be read: no such file`);
        }
        if (!st.isFile()) throw new SoundError(`"${shown}" is not a file`);
        this.checkSize(st.size, shown);
        fs.copyFileSync(input, tmpIn);
        const fd = fs.openSync(tmpIn, 'r');
        head = Buffer.alloc(16);
        const n = fs.readSync(fd, head, 0, 16, 0);
        fs.closeSync(fd);
        head = head.subarray(0, n);
      } else {
        if (!Buffer.isBuffer(input)) throw new SoundError(`"${shown}": the upload is not file data`);
        this.checkSize(input.length, shown);
        fs.writeFileSync(tmpIn, input);
        head = input.subarray(0, 16);
      }
      const kindOfFile = sniffAudio(head);
      if (!kindOfFile) throw new SoundError(`"${shown}" is not an MP3 or WAV audio file (it does not start like one)`);

      const maxSeconds = Math.ceil(this.maxDurationMs / 1000) + 1;
      try {
        await convertTo8kMonoWav(tmpIn, tmpOut, { inputFormat: kindOfFile, maxSeconds, timeoutMs: this.convertTimeoutMs });
      } catch (err) {
        if (err instanceof ToolError && err.tool === 'ffmpeg' && err.stderr) {
          // ffmpeg names its input by our temporary path: show the user's file name instead.
          throw new SoundError(`"${shown}" is not an MP3 or WAV audio file (ffmpeg: ${lastLine(err.stderr).split(tmpIn).join(shown)})`);
        }
        throw new SoundError(`"${shown}" could not be converted: ${(err as Error).message}`);
      }
      const info = (() => {
        try {
          return parseWav(fs.readFileSync(tmpOut));
        } catch (err) {
          throw new SoundError(`"${shown}" could not be converted: ffmpeg wrote an unreadable WAV (${(err as Error).message})`);
        }
      })();
      if (telephoneFormatProblems(info).length > 0) {
        throw new SoundError(`"${shown}" could not be converted to 8 kHz mono 16-bit`);
      }
      if (info.frames === 0) throw new SoundError(`"${shown}" contains no audio`);
      if (info.durationMs > this.maxDurationMs) {
        throw new SoundError(`"${shown}" is too long: more than ${Math.round(this.maxDurationMs / 1000)} s (the limit)`);
      }

      const file = `${slug(name)}-${token}.wav`;
      const final = path.join(this.dir, file);
      fs.renameSync(tmpOut, final);
      const previous = this.repo.findByName(name);
      let sound: Sound;
      try {
        const row = { file, kind, language: opts.language ?? previous?.language ?? null, durationMs: info.durationMs };
        // A re-import keeps the row (and every reference to its id): only the file and its facts change.
        sound = previous ? this.repo.update(previous.id, row) : this.repo.create({ name, ...row });
      } catch (err) {
        fs.rmSync(final, { force: true });
        throw err;
      }
      if (previous && previous.file !== file) fs.rmSync(path.join(this.dir, previous.file), { force: true });
      return sound;
    } finally {
      fs.rmSync(tmpIn, { force: true });
      fs.rmSync(tmpOut, { force: true });
    }
  }

  /** Absolute path of a sound's WAV; NotFoundError when there is no such sound. */
  path(name: string): string {
    const s = this.repo.findByName(name);
    if (!s) throw new NotFoundError('sound', JSON.stringify(name));
    return path.join(this.dir, s.file);
  }

  get(name: string): Sound | undefined {
    return this.repo.findByName(name);
  }

  list(): Sound[] {
    return this.repo.list();
  }

  /** Deletes the row then the file; false when there was no such sound. */
  remove(name: string): boolean {
    const s = this.repo.findByName(name);
    if (!s) return false;
    this.repo.delete(s.id);
    fs.rmSync(path.join(this.dir, s.file), { force: true });
    return true;
  }

  /** Speech for a site-provided text (menu option or service name), cached under sounds/tts/. */
  tts(lang: string, text: string): Promise<string> {
    return this.speech.say(lang, text);
  }

  private checkSize(size: number, shown: string): void {
    if (size === 0) throw new SoundError(`"${shown}" is empty`);
    if (size > this.maxBytes) throw new SoundError(`"${shown}" is ${Math.round(size / 1048576)} MB: larger than the ${Math.round(this.maxBytes / 1048576)} MB limit`);
  }
}

function slug(name: string): string {
  return (
    name
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^A-Za-z0-9_-]+/g, '_')
      .replace(/^[-_]+|[-_]+$/g, '')
      .slice(0, 40) || 'sound'
  );
}
