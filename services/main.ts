// Composition root: reads config, opens the store, wires modules, starts them in order, stops them in reverse.
import fs from 'node:fs';
import path from 'node:path';
import { BoardController, FactoryReset, openBoard, type SimBoard } from '../board/index.js';
import { EmailNotifier } from './notify/index.js';
import { ApiServer, ApiTokenRepository, FirstRunSetup, PENDING_RESTORE, WallboardTokenRepository, mountRestApi } from './api/index.js';
import { AuditLog } from './audit/index.js';
import { restoreBackup } from './backup/index.js';
import { EventBus, publishBoard, publishHealth, publishUpdates, publishCalls, publishRegistrations, publishTrunks, publishVoicemail, registrationView, trunkStatusViews } from './events/index.js';
import { LogRing, SystemMonitor } from './system/index.js';
import { HealthCheck, SystemdNotifier, cachedProbe, diskProbe, moduleProbe, storeWritableProbe, temperatureProbe, throttlingProbe } from './health/index.js';
import { CallModule } from './call/index.js';
import { createMediaEngine, type MediaEngine } from './media/index.js';
import { registerRtpengineBackend } from './media/rtpengine/index.js';
import { PromptLibrary, SoundLibrary } from './media/sounds/index.js';
import { ProvisioningModule, ProvisioningService } from './provisioning/index.js';
import { AuthGuard, BanKeeper, BanRepository, DialogJournal, FloodControl, JOURNAL_FLUSH_MS, PresenceServer, Registrar, SipStack, TrunkService } from './sip/index.js';
import { ChangeWatcher, PRE_UPDATE_SUFFIX, Store, WalCheckpointer } from './storage/index.js';
import { QueueService, QueueCalls, LiveAgents, publishQueues, queueGateway, soundPath } from './queue/index.js';
import { attachOverrideLamps, CalendarRepository, SiteCalendar } from './scenario/calendar/index.js';
import { BlocklistRepository, callerScreenMiddleware, InboxRepository, JobRepository } from './scenario/inbox/index.js';
import { SiteEditor } from './scenario/config/index.js';
import { ScenarioModule } from './scenario/index.js';
import { registerOverrideCodes } from './scenario/calendar/override-wiring.js';
import type { CallInfo } from './call/index.js';
import type { Directory } from './directory/index.js';
import { bootstrapSite, consoleUrl } from './site/index.js';
import { RaucDbus, UpdateAgent, UpdateHistory, commandReboot } from './update/index.js';
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

/** The version of this build (package.json), for a box whose running slot RAUC knows no version of. */
const PACKAGE_VERSION = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** How often the health check runs on its own (LEDs, good-boot confirmation, update agent). */
const HEALTH_EVERY_MS = 10_000;
/** How much longer than TimeoutStartSec a trial boot may take to copy and migrate the database. */
const TRIAL_OPEN_EXTENSION_MS = 10 * 60_000;
/** Temperature and throttling are measured at most this often. */
const SLOW_PROBE_EVERY_MS = 30_000;
/** From the confirmed factory reset to the restart into first run. */
const RESET_RESTART_DELAY_MS = 1000;

export interface RelaisOptions {
  clock?: Clock;
  logger?: Logger;
  /** Lines a person must see once (first-run admin password, console address); stdout by default. */
  print?: (line: string) => void;
  /** Stops this Relais and starts a new one on the same settings (serve does; a factory reset needs it). */
  restart?: (reason: string) => void;
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
  /** The site's calendar: time zone, holidays, day/night/holiday override (conditions' ConditionEvaluator). */
  calendar: SiteCalendar | undefined;
  /** Notices configuration changes (API, `relais import` on the running box) so the next call uses them. */
  changes: ChangeWatcher | undefined;
  /** Blocked callers: declined before call control (or sent to their scenario). */
  blocklist: BlocklistRepository | undefined;
  /** The scenario interpreter (inbound numbers) and the simulator. */
  scenarios: ScenarioModule | undefined;
  /** The queues' `distribute` gateway on live calls (scenarios hand calls to it). */
  queueCalls: QueueCalls | undefined;
  /** Live events for the console (calls, registrations, trunks, config changes, alerts); modules publish here. */
  readonly bus: EventBus;
  /** The last log lines (the console's logs page). */
  readonly logRing = new LogRing();
  /** Desk-phone provisioning: inventory, config files, TFTP, SIP plug-and-play, check-sync. */
  provisioning: ProvisioningService | undefined;
  provisioningModule: ProvisioningModule | undefined;
  /** The box's TLS certificate (HTTPS console and provisioning; later SIP TLS). */
  certificate: BoxCertificate | undefined;
  /** Status LEDs and the reset button (Linux LED class and gpio-keys on the Pi, simulated elsewhere). */
  board: BoardController | undefined;
  /** The simulated board when no GPIO is present (the API presses its button). */
  simBoard: SimBoard | undefined;
  /** The one health check: /healthz, LEDs, console, update agent. */
  healthCheck: HealthCheck | undefined;
  /** Firmware updates through RAUC (undefined when --rauc is off or RAUC does not answer). */
  updates: UpdateAgent | undefined;
  /** READY=1 and WATCHDOG=1 to systemd (Type=notify). */
  readonly notifier: SystemdNotifier;
  private started: Module[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    readonly config: Config,
    private readonly opts: RelaisOptions = {},
  ) {
    this.clock = opts.clock ?? new SystemClock();
    this.log = opts.logger ?? new Logger(config.logLevel, {}, this.logRing);
    this.bus = new EventBus({ clock: this.clock });
    this.notifier = new SystemdNotifier({ clock: this.clock, logger: this.log });
  }

  async start(): Promise<void> {
    const { config } = this;
    fs.mkdirSync(config.dataDir, { recursive: true });
    // A factory reset confirmed on the button is applied here, before anything opens the data (board/factory-reset.ts).
    const reset = new FactoryReset(config.dataDir);
    const resetBackup = reset.applyPending(new Date(this.clock.now()).toISOString());
    if (resetBackup) this.log.warn('factory reset: the data dir starts empty; the old data is kept until this boot proves good', { backup: resetBackup });
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
    // The update agent comes first: if this boot is a new firmware's trial and the store cannot open (a schema
    // migration failed), the slot is marked bad and the box reboots back to the firmware that worked.
    this.updates = await this.startUpdateAgent();
    let store: Store;
    const dbFile = path.join(config.dataDir, 'relais.db');
    // A trial boot keeps a copy of the database before migrating it; a firmware that finds its database migrated by
    // a newer firmware whose trial failed goes back to that copy (docs/firmware.md, "Going back after a failed update").
    const onTrial = this.updates?.onTrial() ?? false;
    // The copy and the migrations run before READY=1: a large database must not outlast TimeoutStartSec (90 s).
    if (onTrial) await this.notifier.extendStart(TRIAL_OPEN_EXTENSION_MS, 'new firmware: copying and migrating the database');
    try {
      store = Store.open(dbFile, { clock: this.clock, snapshotBeforeMigrating: onTrial, goBackAfterFailedUpdate: true });
    } catch (err) {
      await this.failedStart(`the database could not be opened: ${errorMessage(err)}`);
      throw err;
    }
    this.store = store;
    const { snapshot, wentBack, resumedGoingBack } = store.notes;
    if (snapshot) this.log.info('database copied before this firmware migrates it', { copy: snapshot.file, schema: snapshot.schema, migrations: snapshot.migrations });
    if (resumedGoingBack) this.log.warn('finished putting back the database copied before a failed update (the last start was cut short)');
    if (wentBack) {
      this.log.warn('a newer firmware migrated the database and then failed its trial: the data is back as it was before that update; the newer database is kept aside', {
        keptAt: wentBack.keptAt,
        newerSchema: wentBack.newerSchema,
        schema: wentBack.schema,
      });
    }
    // Outside a trial the copy has served its purpose: the update was confirmed, or the box went back to it.
    if (!onTrial) fs.rmSync(`${dbFile}${PRE_UPDATE_SUFFIX}`, { force: true });
    else this.updates?.observer.on('update.confirmed', () => fs.rmSync(`${dbFile}${PRE_UPDATE_SUFFIX}`, { force: true }));
    const print = this.opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
    try {
      this.directory = bootstrapSite(store, config, { log: this.log, print, clock: this.clock }).directory;
    } catch (err) {
      store.close();
      throw err;
    }
    this.updates?.attachHistory(new UpdateHistory(store.db));
    this.modules.push({
      name: 'storage',
      start: async () => {},
      stop: async () => store.close(),
      health: (): ModuleHealth => ({ status: store.db.open ? 'ok' : 'down', detail: { schema: store.schemaVersion() } }),
    });
    // WAL checkpoints (the copy into the database file and its fsync) on their own thread, not inside a commit of
    // the signalling thread (services/storage/checkpointer.ts); stopped before the store closes.
    this.modules.push(new WalCheckpointer(store, { logger: this.log }));

    registerRtpengineBackend();
    this.media = createMediaEngine(config, { logger: this.log });
    this.modules.push(this.media);

    const journal = new DialogJournal(store.db, (err) => this.log.warn('dialog journal not written', { error: errorMessage(err) }), { maxIntervalMs: JOURNAL_FLUSH_MS }, this.clock);
    // One certificate for SIP over TLS, the HTTPS console and provisioning (docs/security.md).
    this.certificate = new BoxCertificate({ dir: path.join(config.dataDir, 'tls'), commonName: config.domain, clock: this.clock });
    this.sip = new SipStack({
      bind: config.bind,
      port: config.sipPort,
      domain: config.domain,
      clock: this.clock,
      logger: this.log,
      journal,
      udpSendThread: config.udpSendThread,
      ...(config.sipTlsPort !== undefined ? { tls: { port: config.sipTlsPort, certificate: this.certificate } } : {}),
    });
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
    const trunkCredentials = this.trunks;
    // A provider that challenges our BYE (or another in-dialog request) gets that trunk's credentials (§22).
    sip.setPeerCredentials((flow) => trunkCredentials.credentialsFor(flow.address, flow.port));
    this.modules.push(this.presence, this.trunks);

    // Scenario configuration: calendar (override lamps on *60-*63), blocklist screen ahead of call control, and the
    // change watcher that makes edits and imports apply to the next call without a restart.
    this.calendar = new SiteCalendar(new CalendarRepository(store.db), this.clock);
    attachOverrideLamps(this.presence, this.calendar);
    this.blocklist = new BlocklistRepository(store.db, () => this.clock.now());
    const trunks = this.trunks;
    sip.use(
      'INVITE',
      callerScreenMiddleware({
        screen: this.blocklist,
        matchInbound: (req) => trunks.matchInbound(req),
        logger: this.log.child({ module: 'screen' }),
        // The interpreter runs a blocked caller's chosen scenario itself (it screens every call at its entry).
        scenarioRunsVerdict: () => this.scenarios !== undefined,
      }),
    );
    const calendar = this.calendar;
    this.changes = new ChangeWatcher(store.db, this.clock, 200, this.log.child({ module: 'config-watch' }));
    const registrarForChanges = this.registrar;
    this.changes.on('changed', () => {
      calendar.refresh();
      // Extensions' secrets may have changed (an import): phones authenticate against the stored ones.
      registrarForChanges.invalidateAccounts();
      void trunks.reload().catch((err: unknown) => this.log.warn('trunk reload failed', { error: errorMessage(err) }));
    });
    this.modules.push(this.changes);
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
    // *60 day, *61 night, *62 holiday, *63 automatic: administrators and users with the scenarios right.
    const overridePrompts = new PromptLibrary();
    registerOverrideCodes({
      features: this.calls.calls.featureCodes,
      sip,
      calendar,
      mayOverride: (userId) => {
        const user = userId === null ? undefined : dir.users.get(userId);
        return user !== undefined && dir.users.hasRight(user, 'scenarios');
      },
      prompt: (key) => {
        const lang = dir.settings.site<string>('language') ?? 'en';
        try {
          return overridePrompts.path(['fr', 'en', 'es'].includes(lang) ? lang : 'en', key);
        } catch {
          return undefined;
        }
      },
      logger: this.log.child({ module: 'calendar' }),
    });
    publishCalls(this.bus, this.calls.calls.observer, () => this.calls!.calls.active());
    publishRegistrations(this.bus, this.registrar);
    publishVoicemail(this.bus, this.calls.voicemail);
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
      conditions: this.calendar,
    });
    const wake = (): void => this.queues?.engine.agentChanged();
    for (const ev of ['registered', 'unregistered', 'expired'] as const) this.registrar.on(ev, wake);
    for (const ev of ['call.ringing', 'call.answered', 'call.ended'] as const) this.calls.calls.observer.on(ev, wake);
    this.modules.push(this.queues);
    // Queues on live calls: the ringer, short numbers, *41/*42/*43 codes and their lamps, Neglected.
    this.queueCalls = new QueueCalls({
      service: this.queues,
      calls: this.calls.calls,
      extensions: dir.extensions,
      soundFile: (id) => {
        const snd = dir.sounds.get(id);
        return snd ? soundPath(config.dataDir, snd.file) : undefined;
      },
      soundIdByName: (name) => dir.sounds.findByName(name)?.id,
      prompts: new PromptLibrary(),
      setting: (key) => {
        const v = dir.settings.site(key);
        return v === undefined ? undefined : String(v);
      },
      presence: this.presence,
      clock: this.clock,
      logger: this.log.child({ module: 'queues' }),
    });
    this.queueCalls.attach();
    publishQueues(this.bus, this.queues, (id) => dir.users.get(id)?.username ?? null);

    // Scenarios: every inbound call to a number runs through the interpreter (docs/calls.md "Scenario interpreter").
    const soundLibrary = new SoundLibrary({ dataDir: config.dataDir, db: store.db, clock: this.clock });
    const siteCalendar = this.calendar;
    this.scenarios = new ScenarioModule({
      calls: this.calls.calls,
      dir,
      registered: (n) => registrarRef.isRegistered(n),
      conditions: siteCalendar,
      screen: this.blocklist,
      timeZone: () => siteCalendar.timeZone(),
      clock: this.clock,
      logger: this.log,
      dataDir: config.dataDir,
      prompts: new PromptLibrary(),
      say: (lang, text) => soundLibrary.tts(lang, text),
    });
    // distribute / callback actions go to the queue engine.
    this.scenarios.useQueues(queueGateway(this.queues, this.queueCalls));

    const setup = new FirstRunSetup(dir.settings, dir.users);
    const registrar = this.registrar;
    const certificate = this.certificate;

    const media = this.media;
    const started = (m: { health(): ModuleHealth }): ModuleHealth | undefined => (this.started.includes(m as Module) ? m.health() : undefined);
    this.healthCheck = new HealthCheck({
      clock: this.clock,
      modules: () => this.health(),
      probes: {
        sip: moduleProbe('SIP listening', () => started(sip)),
        store: storeWritableProbe(() => this.store?.db, this.clock),
        media: moduleProbe('media engine', () => started(media)),
        disk: diskProbe(config.dataDir),
        // Both run commands or read sensors: at most every 30 s (they change slowly), so /healthz stays cheap.
        temperature: cachedProbe(temperatureProbe(), this.clock, SLOW_PROBE_EVERY_MS),
        throttling: cachedProbe(throttlingProbe(), this.clock, SLOW_PROBE_EVERY_MS),
      },
    });
    const healthCheck = this.healthCheck;

    // LEDs only observe: a snapshot read once a second (the last health report, phones, calls).
    const calls = this.calls;
    const opened = openBoard(config.appliance.board, { onButtonError: (err) => this.log.warn('reset button unreadable', { error: err.message }) });
    this.simBoard = opened.sim;
    this.board = new BoardController({
      definition: opened.definition,
      leds: opened.leds,
      button: opened.button,
      clock: this.clock,
      logger: this.log,
      snapshot: () => {
        const activity = calls.activity();
        const { board: _leds, ...modules } = this.health();
        return {
          health: healthCheck.latest()?.status ?? overallStatus(Object.values(modules).map((m) => m.status)),
          registeredPhones: registrar.bindingCount(),
          activeCalls: activity.active,
          ringingCalls: activity.ringing,
          updating: ['receiving', 'checking', 'installing', 'installed', 'rebooting', 'confirming'].includes(this.updates?.currentState() ?? 'idle'),
          error: false,
        };
      },
      factoryReset: () => {
        reset.request(new Date(this.clock.now()));
        // A moment of the "resetting" pattern, and time for the request that released the button to be answered.
        const restart = this.opts.restart;
        if (restart) this.clock.setTimeout(() => restart('factory reset'), RESET_RESTART_DELAY_MS);
        else this.log.error('factory reset requested: restart Relais to apply it (this process cannot restart itself)');
      },
    });
    // The console's event stream mirrors the front panel and follows firmware updates (administrators).
    publishBoard(this.bus, this.board);
    publishHealth(this.bus, healthCheck);
    if (this.updates) publishUpdates(this.bus, this.updates);
    this.api = new ApiServer({
      bind: config.bind,
      port: config.httpPort,
      logger: this.log,
      health: () => this.healthCheck!.run(),
      ...(config.httpsPort !== undefined ? { https: { port: config.httpsPort, certificate } } : {}),
      hostNames: [config.domain, ...config.httpHosts],
      httpsRedirect: () => dir.settings.site<boolean>('https_redirect') === true,
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
      sipTlsPort: () => sip.tlsPort() ?? config.sipTlsPort,
      certificatePem: () => certificate.certificatePem(),
      advertisedHost: () => sip.transport.advertisedAddress,
      ports: () => ({ http: api.port(), https: api.httpsPort() }),
      registrations: (id) => registrar.contactsOf(id).map((b) => ({ address: b.source.address, port: b.source.port, userAgent: b.userAgent, expiresAt: b.expiresAt })),
    });
    // The console's phone page follows these live.
    this.provisioning.on('seen', (e) => this.bus.publish('phone.seen', { mac: e.mac, via: e.via, vendor: e.vendor ?? null }));
    this.provisioning.on('assigned', (e) => this.bus.publish('phone.assigned', e));
    this.provisioning.on('fetched', (e) => this.bus.publish('phone.fetched', { mac: e.mac, ip: e.ip, via: e.via, file: e.file, status: e.status, secrets: e.secrets }));
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
    // E-mail notifications (docs/console.md "Notifications"): settings read at each send.
    const voicemails = this.calls.voicemail.repo;
    const notifier = new EmailNotifier({
      bus: this.bus,
      settings: dir.settings,
      users: dir.users,
      extensions: dir.extensions,
      numbers: dir.numbers,
      voicemailFile: (id) => voicemails.get(id),
      dataDir: config.dataDir,
      logger: this.log,
    });
    notifier.start();
    mountRestApi(this.api, {
      notifier,
      users: dir.users,
      extensions: dir.extensions,
      numbers: dir.numbers,
      calls: this.calls,
      sounds: soundLibrary,
      scenarios: this.scenarios,
      dataDir: config.dataDir,
      clock: this.clock,
      logger: this.log,
      sipGuard: this.registrar.guard,
      sipBans: banRepo,
      queueService: this.queues,
      queues: dir.queues,
      wallboardTokens: new WallboardTokenRepository(store.db, this.clock),
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
      appliance: { board: this.board, simBoard: this.simBoard, updates: this.updates },
      scenarioConfig: {
        editor: new SiteEditor({ store, realm: config.domain, changed: () => this.changes?.touch(), clock: this.clock }),
        calendar: this.calendar,
        inbox: new InboxRepository(store.db),
        jobs: new JobRepository(store.db, () => this.clock.now()),
        blocklist: this.blocklist,
      },
    });
    this.modules.push(this.api);

    this.modules.push(this.board);

    for (const m of this.modules) {
      try {
        await m.start();
        this.started.push(m);
      } catch (err) {
        this.log.error('module failed to start', { module: m.name, error: errorMessage(err) });
        await this.failedStart(`module ${m.name} failed to start: ${errorMessage(err)}`);
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

    // The first passing health check proves the boot good: a factory-reset backup is no longer needed.
    const stopWatching = healthCheck.onReport((report) => {
      if (report.status === 'down') return;
      stopWatching();
      if (reset.confirmGoodBoot()) this.log.info('factory reset: first boot is healthy; the backup of the old data was removed');
    });
    const updates = this.updates;
    if (updates) healthCheck.onReport((report) => updates.healthReport(report.status));
    healthCheck.watch(HEALTH_EVERY_MS);
    await this.notifier.ready(`SIP on ${config.bind}:${config.sipPort}, console on port ${this.api.port()}`);
  }

  /** The RAUC update agent when --rauc is on and the service answers; without it the box runs, without updates. */
  private async startUpdateAgent(): Promise<UpdateAgent | undefined> {
    const { appliance } = this.config;
    if (appliance.rauc === 'off') return undefined;
    const address = appliance.rauc === 'system' ? 'system' : appliance.rauc.address;
    try {
      const agent = new UpdateAgent({
        rauc: await RaucDbus.connect(address),
        clock: this.clock,
        logger: this.log,
        dataDir: this.config.dataDir,
        reboot: commandReboot(appliance.rebootCommand),
        confirmMs: appliance.updateConfirmMs,
        fallbackVersion: appliance.firmwareVersion ?? PACKAGE_VERSION,
      });
      await agent.start();
      return agent;
    } catch (err) {
      this.log.warn('firmware updates unavailable: RAUC does not answer on D-Bus', { address, error: errorMessage(err) });
      return undefined;
    }
  }

  /** A start that fails on a new firmware's trial boot rolls the firmware back (marks the slot bad, reboots). */
  private async failedStart(reason: string): Promise<void> {
    try {
      if (await this.updates?.startupFailed(reason)) this.log.error('rolled back to the previous firmware', { reason });
    } catch (err) {
      this.log.error('rollback after a failed start did not complete', { error: errorMessage(err) });
    }
  }

  health(): Record<string, ModuleHealth> {
    const out: Record<string, ModuleHealth> = {};
    for (const m of this.modules) out[m.name] = this.started.includes(m) ? m.health() : { status: 'down' };
    return out;
  }

  /** Stops started modules in reverse order; safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.healthCheck?.unwatch();
      this.updates?.stop();
      await this.notifier.stopping();
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
