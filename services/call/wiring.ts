// Builds the call module (CallService + Voicemail) from the running appliance's parts and its call settings.
import path from 'node:path';
import type { CallSettings, Clock, Logger, Module, ModuleHealth } from '../shared/index.js';
import type { Database } from '../storage/index.js';
import { SettingsRepository, SoundRepository, UserRepository, type ExtensionRepository } from '../directory/index.js';
import type { MediaEngine } from '../media/index.js';
import { defaultMohFile } from '../media/sounds/index.js';
import { CallService } from './call-service.js';
import { Voicemail, type VoicemailPrompts } from './voicemail.js';
import type { CallPresence, CallRegistrar, CallSipHost, CallTrunks } from './sip-host.js';

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
  /** Timeouts and recording from the configuration (--ring-timeout, --record-calls …). */
  settings: CallSettings;
}

/** The module the composition root starts after SIP, registrar, presence and media. */
export class CallModule implements Module {
  readonly name = 'calls';
  readonly calls: CallService;
  readonly voicemail: Voicemail;

  constructor(private readonly parts: CallModuleParts) {
    const s = parts.settings;
    const siteSettings = new SettingsRepository(parts.db);
    const language = siteSettings.get('site.language')?.replace(/^"|"$/g, '') ?? 'en';
    const users = new UserRepository(parts.db);
    const sounds = new SoundRepository(parts.db);
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
      // Written on the next turn after a quiet moment; under a burst, a wait paced by the commits' cost, at most 50 ms
      // (docs/security.md "After a crash").
      historyBatchMs: 50,
      ...(s.rtpTimeoutMs !== undefined ? { rtpTimeoutMs: s.rtpTimeoutMs } : {}),
      isDnd: (ext) => ext.userId !== null && users.isDnd(ext.userId),
      shouldRecord: (call) => s.record === 'all' || call.recordNumber === true,
      mohFile: () => {
        // The site's first music-on-hold sound (uploaded through the console or the site file), else the box's own
        // default music built at build time (docs/queues.md): a held party always gets RTP.
        const moh = sounds.firstOfKind('moh');
        return moh ? path.join(parts.dataDir, 'sounds', moh.file) : defaultMohFile();
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
    this.voicemail.registerCodes(this.calls.featureCodes);
  }

  async start(): Promise<void> {
    await this.calls.start();
    // Messages a crash or power cut cut short are filed before the lamps are set (docs/calls.md, "Voicemail").
    this.voicemail.recoverInterrupted(this.calls.interruptedAtStart);
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
