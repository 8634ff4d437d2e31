// Builds the call module (CallService + Voicemail) from the running appliance's parts; env knobs for timeouts and recording.
import path from 'node:path';
import type { Clock, Logger, Module, ModuleHealth } from '../shared/index.js';
import { ConfigError } from '../shared/index.js';
import type { Database } from '../storage/index.js';
import { SettingsRepository, type ExtensionRepository } from '../directory/index.js';
import type { MediaEngine } from '../media/index.js';
import { CallService } from './call-service.js';
import { Voicemail, type VoicemailPrompts } from './voicemail.js';
import type { CallPresence, CallRegistrar, CallSipHost, CallTrunks } from './sip-host.js';

/** Call-control knobs read from the environment (tests make them short). */
export interface CallSettings {
  /** RELAIS_RING_TIMEOUT_MS: how long contacts ring before voicemail / 480 (default 20 000). */
  ringTimeoutMs: number;
  /** RELAIS_RTP_TIMEOUT_MS: no RTP for this long ends a call (default: the media engine's, 30 s). */
  rtpTimeoutMs: number | undefined;
  /** RELAIS_RECORD_CALLS: 'all' records every answered call; 'numbers' (default) only numbers with record on. */
  record: 'all' | 'numbers';
  /** RELAIS_VM_SILENCE_MS: voicemail recording stops after this much silence (default 5000). */
  voicemailSilenceMs: number;
  /** RELAIS_VM_MAX_MS: longest voicemail message (default 120 000). */
  voicemailMaxMs: number;
}

function msFromEnv(env: NodeJS.ProcessEnv, name: string, def: number, min: number): number {
  const v = env[name];
  if (v === undefined || v === '') return def;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new ConfigError(`${name}: "${v}" must be a number of milliseconds, at least ${min}`, name);
  return Number(v);
}

export function callSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): CallSettings {
  const rec = env.RELAIS_RECORD_CALLS;
  if (rec !== undefined && rec !== '' && rec !== 'all' && rec !== 'numbers') {
    throw new ConfigError(`RELAIS_RECORD_CALLS: "${rec}" must be "all" or "numbers"`, 'RELAIS_RECORD_CALLS');
  }
  const rtp = env.RELAIS_RTP_TIMEOUT_MS;
  return {
    ringTimeoutMs: msFromEnv(env, 'RELAIS_RING_TIMEOUT_MS', 20_000, 500),
    rtpTimeoutMs: rtp === undefined || rtp === '' ? undefined : msFromEnv(env, 'RELAIS_RTP_TIMEOUT_MS', 30_000, 500),
    record: rec === 'all' ? 'all' : 'numbers',
    voicemailSilenceMs: msFromEnv(env, 'RELAIS_VM_SILENCE_MS', 5000, 500),
    voicemailMaxMs: msFromEnv(env, 'RELAIS_VM_MAX_MS', 120_000, 1000),
  };
}

export interface CallModuleParts {
  db: Database;
  extensions: ExtensionRepository;
  sip: CallSipHost;
  registrar: CallRegistrar;
  presence?: CallPresence | undefined;
  trunks?: CallTrunks | undefined;
  media?: MediaEngine | undefined;
  prompts?: VoicemailPrompts | undefined;
  clock: Clock;
  logger: Logger;
  dataDir: string;
  domain: string;
  settings?: CallSettings;
}

/** The module the composition root starts after SIP, registrar, presence and media. */
export class CallModule implements Module {
  readonly name = 'calls';
  readonly calls: CallService;
  readonly voicemail: Voicemail;

  constructor(private readonly parts: CallModuleParts) {
    const s = parts.settings ?? callSettingsFromEnv();
    const siteSettings = new SettingsRepository(parts.db);
    const language = siteSettings.get('site.language')?.replace(/^"|"$/g, '') ?? 'en';
    const dndQuery = parts.db.prepare('SELECT dnd FROM users WHERE id = ?');
    const mohQuery = parts.db.prepare("SELECT file FROM sounds WHERE kind = 'moh' ORDER BY id LIMIT 1");
    this.calls = new CallService({
      sip: parts.sip,
      registrar: parts.registrar,
      extensions: parts.extensions,
      db: parts.db,
      clock: parts.clock,
      logger: parts.logger,
      dataDir: parts.dataDir,
      domain: parts.domain,
      media: parts.media,
      presence: parts.presence,
      trunks: parts.trunks,
      ringTimeoutMs: s.ringTimeoutMs,
      historyBatchMs: 50,
      ...(s.rtpTimeoutMs !== undefined ? { rtpTimeoutMs: s.rtpTimeoutMs } : {}),
      isDnd: (ext) => ext.userId !== null && (dndQuery.get(ext.userId) as { dnd: number } | undefined)?.dnd === 1,
      shouldRecord: (call) => s.record === 'all' || call.recordNumber === true,
      mohFile: () => {
        // The site's first music-on-hold sound (uploaded through the console or the site file), if any.
        const row = mohQuery.get() as { file: string } | undefined;
        return row ? path.join(parts.dataDir, 'sounds', row.file) : undefined;
      },
    });
    this.voicemail = new Voicemail({
      sip: parts.sip,
      db: parts.db,
      extensions: parts.extensions,
      history: this.calls.history,
      clock: parts.clock,
      logger: parts.logger,
      dataDir: parts.dataDir,
      prompts: parts.prompts,
      presence: parts.presence,
      language: ['fr', 'en', 'es'].includes(language) ? language : 'en',
      maxLengthMs: s.voicemailMaxMs,
      silenceMs: s.voicemailSilenceMs,
    });
    this.calls.useVoicemail(this.voicemail);
  }

  async start(): Promise<void> {
    await this.calls.start();
    // MWI lamps after a restart: presence keeps mailboxes in memory only.
    for (const ext of this.parts.extensions.list()) if (ext.voicemailEnabled) this.voicemail.publishMailbox(ext);
  }

  async stop(): Promise<void> {
    await this.calls.stop();
  }

  health(): ModuleHealth {
    return this.calls.health();
  }

  /** Calls in progress and ringing (LEDs, dashboard). */
  activity(): { active: number; ringing: number } {
    return this.calls.activity();
  }

  /** Typed call events for watchers (console WebSocket, LEDs, queues). */
  get observer(): CallService['observer'] {
    return this.calls.observer;
  }

  /** Call history (calls and call_events rows). */
  get history(): CallService['history'] {
    return this.calls.history;
  }

  /** Where recordings and voicemail live (for the API's downloads). */
  recordingPath(relative: string): string {
    return path.join(this.parts.dataDir, relative);
  }
}
