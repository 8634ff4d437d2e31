// Composition root: reads config, opens the store, wires modules, starts them in order, stops them in reverse.
import fs from 'node:fs';
import path from 'node:path';
import { detectBoard, StatusLeds } from '../board/index.js';
import { ApiServer, ApiTokenRepository, FirstRunSetup, PENDING_RESTORE, mountRestApi } from './api/index.js';
import { AuditLog } from './audit/index.js';
import { restoreBackup } from './backup/index.js';
import { EventBus, publishCalls, publishRegistrations, publishTrunks, registrationView, trunkStatusViews } from './events/index.js';
import { LogRing, SystemMonitor } from './system/index.js';
import { CallModule } from './call/index.js';
import { createMediaEngine, type MediaEngine } from './media/index.js';
import { registerRtpengineBackend } from './media/rtpengine/index.js';
import { PromptLibrary, SoundLibrary } from './media/sounds/index.js';
import { ProvisioningModule, ProvisioningService } from './provisioning/index.js';
import { AuthGuard, BanKeeper, BanRepository, FloodControl, PresenceServer, Registrar, SipStack, TrunkService } from './sip/index.js';
import { Store } from './storage/index.js';
import { QueueService, LiveAgents } from './queue/index.js';
import { CalendarRepository, SiteCalendar } from './scenario/calendar/index.js';
import type { CallInfo } from './call/index.js';
import type { Directory } from './directory/index.js';
import { bootstrapSite, consoleUrl } from './site/index.js';
import {
  BoxCertificate,
  SystemClock,
  Logger,
  errorMessage,
  overallStatus,
  type Clock,
  type Config,
  type Module,
  type ModuleHealth,
} from './shared/index.js';

export interface RelaisOptions {
  clock?: Clock;
  logger?: Logger;
  /** Lines a person must see once (first-run admin password, console address); stdout by default. */
  print?: (line: string) => void;
}

export class Relais {
  readonly clock: Clock;
  readonly log: Logger;
  readonly modules: Module[] = [];
  store: Store | undefined;
  directory: Directory | undefined;
  api: ApiServer | undefined;
  media: MediaEngine | undefined;
  /** The SIP stack (UDP+TCP on bind:sipPort); call/registrar/presence modules add their handlers with sip.use(). */
  sip: SipStack | undefined;
  /** REGISTER handling and bindings (lookup for calls), BLF/MWI notifier, trunk registrations and routes. */
  registrar: Registrar | undefined;
  presence: PresenceServer | undefined;
  trunks: TrunkService | undefined;
  /** B2BUA calls, hold/transfer/recording, call history, voicemail and *97. */
  calls: CallModule | undefined;
  /** Queues (ACD) and callbacks. */
  queues: QueueService | undefined;
  /** Status LEDs (Linux LED class on the Pi, simulated elsewhere). */
  board: StatusLeds | undefined;
  /** Live events for the console (calls, registrations, trunks, config changes, alerts); modules publish here. */
  readonly bus: EventBus;
  /** The last log lines (the console's logs page). */
  readonly logRing = new LogRing();
  /** Desk-phone provisioning: inventory, config files, TFTP, SIP plug-and-play, check-sync. */
  provisioning: ProvisioningService | undefined;
  provisioningModule: ProvisioningModule | undefined;
  /** The box's TLS certificate (HTTPS console and provisioning; later SIP TLS). */
  certificate: BoxCertificate | undefined;
  private started: Module[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    readonly config: Config,
    private readonly opts: RelaisOptions = {},
  ) {
    this.clock = opts.clock ?? new SystemClock();
    this.log = opts.logger ?? new Logger(config.logLevel, {}, this.logRing);
    this.bus = new EventBus({ clock: this.clock });
  }

  async start(): Promise<void> {
    const { config } = this;
    fs.mkdirSync(config.dataDir, { recursive: true });
    // A backup uploaded through the console is restored here, before the database is opened.
    const pendingRestore = path.join(config.dataDir, PENDING_RESTORE);
    if (fs.existsSync(pendingRestore)) {
      try {
        const r = await restoreBackup(config.dataDir, pendingRestore);
        this.log.info('backup restored', { createdAt: r.manifest.createdAt, schema: r.schemaVersion });
      } catch (err) {
        this.log.error('the uploaded backup was not restored; the data is unchanged', { error: errorMessage(err) });
      } finally {
        fs.rmSync(pendingRestore, { force: true });
      }
    }
    const store = Store.open(path.join(config.dataDir, 'relais.db'));
    this.store = store;
    const print = this.opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
    try {
      this.directory = bootstrapSite(store, config, { log: this.log, print }).directory;
    } catch (err) {
      store.close();
      throw err;
    }
    this.modules.push({
      name: 'storage',
      start: async () => {},
      stop: async () => store.close(),
      health: (): ModuleHealth => ({ status: store.db.open ? 'ok' : 'down', detail: { schema: store.schemaVersion() } }),
    });

    registerRtpengineBackend();
    this.media = createMediaEngine(config, { logger: this.log });
    this.modules.push(this.media);

    this.sip = new SipStack({ bind: config.bind, port: config.sipPort, domain: config.domain, clock: this.clock, logger: this.log });
    const sip = this.sip;
    const dir = this.directory;
    // The registrar loads its bindings before the stack listens; presence and trunks need the stack running.
    const guard = new AuthGuard({
      clock: this.clock,
      maxFailures: config.sipBan.maxFailures,
      banMs: config.sipBan.banMinutes * 60_000,
      ...(config.sipBan.allowList ? { allowList: config.sipBan.allowList } : {}),
      ...(config.sipBan.allowedMaxFailures !== undefined ? { allowedMaxFailures: config.sipBan.allowedMaxFailures } : {}),
    });
    const banRepo = new BanRepository(store.db);
    const bans = new BanKeeper({ guard, repo: banRepo, clock: this.clock, logger: this.log });
    this.registrar = new Registrar({ db: store.db, extensions: dir.extensions, clock: this.clock, logger: this.log, domain: config.domain, guard });
    this.registrar.attach(sip);
    if (guard.enabled) sip.transport.setGuard(guard);
    // Flood control before parsing: the box itself is exempt, registered phones and trunk providers get 10x.
    const flood = new FloodControl({
      clock: this.clock,
      ratePerSource: config.sipFloodRate,
      tierOf: (address) =>
        guard.classify(address) === 'own' ? 'exempt' : this.registrar?.hostsPhones(address) || this.trunks?.isPeerAddress(address) ? 'trusted' : 'normal',
      onFlood: (address) => guard.flood(address),
    });
    guard.on('lifted', (ban) => flood.forget(ban.address));
    if (flood.enabled) sip.transport.setFloodControl(flood);
    this.modules.push(bans, this.registrar, sip);
    this.presence = new PresenceServer({
      extensions: dir.extensions,
      digest: this.registrar.digest,
      guard,
      clock: this.clock,
      logger: this.log,
      domain: config.domain,
      contact: (source) => sip.contactFor(source.transport).replace(/^<|>$/g, ''),
    });
    this.presence.attach(sip);
    this.trunks = new TrunkService({ trunks: dir.trunks, numbers: dir.numbers, extensions: dir.extensions, clock: this.clock, logger: this.log });
    this.trunks.attach(sip);
    this.modules.push(this.presence, this.trunks);
    this.calls = new CallModule({
      db: store.db,
      extensions: dir.extensions,
      sip,
      registrar: this.registrar,
      presence: this.presence,
      trunks: this.trunks,
      media: this.media,
      prompts: new PromptLibrary(),
      clock: this.clock,
      logger: this.log,
      dataDir: config.dataDir,
      domain: config.domain,
      settings: config.calls,
    });
    this.modules.push(this.calls);
    publishCalls(this.bus, this.calls.calls.observer, () => this.calls!.calls.active());
    publishRegistrations(this.bus, this.registrar);
    publishTrunks(this.bus, this.trunks);
    const monitor = new SystemMonitor({ clock: this.clock, logger: this.log, bus: this.bus, dataDir: config.dataDir });
    this.modules.push(monitor);

    // Queues: participants' state from the registrar and live calls (asked at each decision), opening hours on the
    // site calendar (zone, holidays, override). Ringing participants is plugged in by the call wiring.
    const callModule = this.calls;
    const registrarRef = this.registrar;
    this.queues = new QueueService({
      db: store.db,
      queues: dir.queues,
      clock: this.clock,
      logger: this.log.child({ module: 'queues' }),
      live: new LiveAgents({
        extensionsOf: (userId) => dir.extensions.listByUser(userId).map((e) => e.number),
        isRegistered: (n) => registrarRef.isRegistered(n),
        usersInCalls: () => usersInCalls(callModule.calls.active()),
      }),
      conditions: new SiteCalendar(new CalendarRepository(store.db), this.clock),
    });
    const wake = (): void => this.queues?.engine.agentChanged();
    for (const ev of ['registered', 'unregistered', 'expired'] as const) this.registrar.on(ev, wake);
    for (const ev of ['call.ringing', 'call.answered', 'call.ended'] as const) this.calls.calls.observer.on(ev, wake);
    this.modules.push(this.queues);

    const setup = new FirstRunSetup(dir.settings, dir.users);
    const trunks = this.trunks;
    const registrar = this.registrar;
    this.certificate = new BoxCertificate({ dir: path.join(config.dataDir, 'tls'), commonName: config.domain });
    const certificate = this.certificate;
    this.api = new ApiServer({
      bind: config.bind,
      port: config.httpPort,
      logger: this.log,
      health: () => this.health(),
      ...(config.httpsPort !== undefined ? { https: { port: config.httpsPort, certificate } } : {}),
    });
    const api = this.api;
    this.provisioning = new ProvisioningService({
      db: store.db,
      directory: dir,
      clock: this.clock,
      logger: this.log,
      domain: config.domain,
      dataDir: config.dataDir,
      sipPort: config.sipPort,
      advertisedHost: () => sip.transport.advertisedAddress,
      ports: () => ({ http: api.port(), https: api.httpsPort() }),
      registrations: (id) => registrar.contactsOf(id).map((b) => ({ address: b.source.address, port: b.source.port, userAgent: b.userAgent, expiresAt: b.expiresAt })),
    });
    this.provisioningModule = new ProvisioningModule({
      service: this.provisioning,
      sip,
      registrar,
      presence: this.presence,
      bind: config.bind,
      sipPort: config.sipPort,
      tftpPort: config.tftpPort,
      clock: this.clock,
      logger: this.log,
    });
    this.modules.push(this.provisioningModule);
    mountRestApi(this.api, {
      users: dir.users,
      extensions: dir.extensions,
      numbers: dir.numbers,
      calls: this.calls,
      sounds: new SoundLibrary({ dataDir: config.dataDir, db: store.db, clock: this.clock }),
      dataDir: config.dataDir,
      clock: this.clock,
      logger: this.log,
      sipGuard: this.registrar.guard,
      sipBans: banRepo,
      queueService: this.queues,
      queues: dir.queues,
      console: {
        bus: this.bus,
        audit: new AuditLog(store.db, this.clock),
        tokens: new ApiTokenRepository(store.db, this.clock),
        setup,
        settings: dir.settings,
        trunks: dir.trunks,
        trunkStatus: () => trunkStatusViews(trunks),
        reloadTrunks: () => trunks.reload(),
        registrations: (id) => registrar.contactsOf(id).map((b) => {
          const v = registrationView(b);
          return { address: v.address, userAgent: v.userAgent, expiresAt: v.expiresAt };
        }),
        credentialsChanged: () => registrar.invalidateAccounts(),
        health: () => monitor.samples(),
        logTail: (n) => this.logRing.tail(n),
        version: relaisVersion(),
        startedAt: this.clock.now(),
      },
      provisioning: { service: this.provisioning, module: this.provisioningModule, realm: config.domain },
      certificate,
    });
    this.modules.push(this.api);

    // LEDs only observe: a snapshot read once a second (health of the other modules, phones, calls).
    const calls = this.calls;
    this.board = new StatusLeds(detectBoard(), this.clock, () => {
      const { board: _leds, ...modules } = this.health();
      const activity = calls.activity();
      return {
        health: overallStatus(Object.values(modules).map((m) => m.status)),
        registeredPhones: registrar.bindingCount(),
        activeCalls: activity.active,
        ringingCalls: activity.ringing,
        updating: false,
        error: false,
      };
    });
    this.modules.push(this.board);

    for (const m of this.modules) {
      try {
        await m.start();
        this.started.push(m);
      } catch (err) {
        this.log.error('module failed to start', { module: m.name, error: errorMessage(err) });
        await this.stop();
        throw err;
      }
    }
    this.log.info('relais started', {
      sip: `${config.bind}:${config.sipPort}`,
      http: `${config.bind}:${this.api.port()}`,
      rtp: `${config.rtpPortMin}-${config.rtpPortMax}`,
      dataDir: config.dataDir,
    });
    print(`Console: ${consoleUrl(config.bind, this.api.port())}`);
    const token = setup.setupToken();
    if (token) print(`First-run setup (choose the admin password in the browser): ${consoleUrl(config.bind, this.api.port()).replace(/\/$/, '')}/setup?token=${token}`);
  }

  health(): Record<string, ModuleHealth> {
    const out: Record<string, ModuleHealth> = {};
    for (const m of this.modules) out[m.name] = this.started.includes(m) ? m.health() : { status: 'down' };
    return out;
  }

  /** Stops started modules in reverse order; safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const m of [...this.started].reverse()) {
        try {
          await m.stop();
        } catch (err) {
          this.log.warn('module failed to stop cleanly', { module: m.name, error: errorMessage(err) });
        }
      }
      this.started = [];
      this.log.info('relais stopped');
    })();
    return this.stopping;
  }
}

/** Users on either side of the calls in progress. */
function* usersInCalls(calls: readonly CallInfo[]): Iterable<number> {
  for (const c of calls) {
    if (c.state === 'ended') continue;
    if (typeof c.caller.userId === 'number') yield c.caller.userId;
    if (typeof c.callee.userId === 'number') yield c.callee.userId;
  }
}

/** The version in package.json (the firmware's version). */
function relaisVersion(): string {
  for (const p of ['../package.json', '../../package.json']) {
    try {
      return (JSON.parse(fs.readFileSync(new URL(p, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      /* try the next place */
    }
  }
  return 'unknown';
}
