// The REST surface under /api: authentication first, then one router file per resource; the event socket; the audit trail.
import Router from '@koa/router';
import type { AuditLog } from '../audit/index.js';
import type { ScenarioModule } from '../scenario/index.js';
import { simulateRoutes } from './routes/simulate.js';
import { voicedropRoutes } from './routes/voicedrop.js';
import type { CallModule } from '../call/index.js';
import type { ExtensionRepository, NumberRepository, QueueRepository, SettingsRepository, TrunkRepository, UserRepository } from '../directory/index.js';
import type { QueueService } from '../queue/index.js';
import type { EventBus, TrunkStatusView } from '../events/index.js';
import type { SoundLibrary } from '../media/sounds/index.js';
import type { ProvisioningModule, ProvisioningService } from '../provisioning/index.js';
import type { BoxCertificate, Clock, Logger } from '../shared/index.js';
import type { AuthGuard, BanRepository } from '../sip/index.js';
import type { HealthSample } from '../system/index.js';
import type { ApiServer } from './app.js';
import type { ApiTokenRepository } from './api-tokens.js';
import { auditTrail } from './audit-trail.js';
import { Authenticator, SESSION_COOKIE, type ApiContext, type ApiState, type SessionLimits } from './auth.js';
import { EVENTS_PATH, EventSocketServer } from './events-socket.js';
import { auditRoutes } from './routes/audit.js';
import { callRoutes } from './routes/calls.js';
import { callbackRoutes } from './routes/callbacks.js';
import { queueRoutes } from './routes/queues.js';
import { extensionRoutes } from './routes/extensions.js';
import { phoneRoutes } from './routes/phones.js';
import { provisioningFileRoutes } from './routes/provisioning.js';
import { tlsRoutes } from './routes/tls.js';
import { sessionRoutes } from './routes/session.js';
import { settingsRoutes } from './routes/settings.js';
import { sipBanRoutes } from './routes/sip-bans.js';
import { soundRoutes } from './routes/sounds.js';
import { applianceRoutes, type ApplianceRouteDeps } from './routes/appliance.js';
import { systemRoutes } from './routes/system.js';
import { trunkRoutes } from './routes/trunks.js';
import { userRoutes } from './routes/users.js';
import { voicemailRoutes } from './routes/voicemails.js';
import type { FirstRunSetup } from './setup.js';

/** What the console's own resources need (users, extensions, settings, system, trunks, events, audit). */
export interface ConsoleDeps {
  bus: EventBus;
  audit: AuditLog;
  tokens: ApiTokenRepository;
  setup: FirstRunSetup;
  settings: SettingsRepository;
  trunks: TrunkRepository;
  trunkStatus: () => TrunkStatusView[];
  reloadTrunks: () => Promise<void>;
  registrations: (extensionId: number) => { address: string; userAgent: string | null; expiresAt: number }[];
  credentialsChanged: () => void;
  health: () => HealthSample[];
  logTail: (lines: number) => string[];
  version: string;
  startedAt: number;
}
import { scenarioConfigRoutes, type ScenarioConfigDeps } from './routes/scenario-config.js';
import { inboxRoutes, type InboxDeps } from './routes/inbox.js';
import { wallboardRoutes } from './routes/wallboard.js';
import { notificationRoutes } from './routes/notifications.js';
import { ttsRoutes } from './routes/tts.js';
import type { EmailNotifier } from '../notify/index.js';
import { WALLBOARD_EVENTS_PATH, Wallboard } from './wallboard.js';
import type { WallboardTokenRepository } from './wallboard-tokens.js';

export interface RestApiDeps {
  users: UserRepository;
  extensions: ExtensionRepository;
  numbers: NumberRepository;
  calls: CallModule;
  sounds: SoundLibrary;
  dataDir: string;
  clock: Clock;
  logger: Logger;
  sessions?: Partial<SessionLimits>;
  maxFailedLogins?: number;
  maxUploadBytes?: number;
  /** SIP password-guessing bans (listed and lifted by administrators). */
  sipGuard?: AuthGuard;
  /** Where bans and security events are recorded (listed at /api/sip/security-events). */
  sipBans?: BanRepository;
  /** Queues and callbacks (/api/queues, /api/callbacks). */
  queueService?: QueueService;
  queues?: QueueRepository;
  /** Board and firmware updates under /api/system (administrators). */
  appliance?: Omit<ApplianceRouteDeps, 'auth'>;
  /** The scenario interpreter's simulator (/api/simulate). */
  scenarios?: ScenarioModule | undefined;
  console?: ConsoleDeps;
  /** Desk-phone provisioning: /provisioning/<file> for phones, /api/phones for people. */
  provisioning?: { service: ProvisioningService; module: ProvisioningModule; realm: string };
  /** The box's TLS certificate (/api/tls/certificate). */
  certificate?: BoxCertificate;
  /** E-mail notifications through the office's SMTP server (/api/notifications/email; needs console). */
  notifier?: EmailNotifier;
  /** Wallboard tokens (the TV's queue board without a login; needs queueService, queues and console). */
  wallboardTokens?: WallboardTokenRepository;
  /** Scenarios, numbers, holidays, override, services, inbox, jobs and blocklist (docs/scenarios.md). */
  scenarioConfig?: Omit<ScenarioConfigDeps, 'users'> & Omit<InboxDeps, 'users'>;
}

export interface RestApi {
  auth: Authenticator;
  events: EventSocketServer | undefined;
  wallboard: Wallboard | undefined;
  /** The router of /api, for modules that add their own resources (routes/<resource>.ts). */
  router: Router<ApiState>;
}

/** Registers /api/* on the server's router (before it starts); returns the authenticator (sessions, throttle). */
export function mountRestApi(api: ApiServer, deps: RestApiDeps): RestApi {
  const c = deps.console;
  const auth = new Authenticator({
    users: deps.users,
    clock: deps.clock,
    logger: deps.logger.child({ module: 'api' }),
    ...(deps.sessions ? { sessions: deps.sessions } : {}),
    ...(deps.maxFailedLogins !== undefined ? { maxFailedLogins: deps.maxFailedLogins } : {}),
    ...(c ? { tokens: c.tokens } : {}),
  });
  if (c) api.app.use(auditTrail(c.audit, c.bus, deps.logger));
  // /healthz shows its detail to administrators only (docs/security.md); a failed check there is just the summary.
  api.setHealthDetailAccess(async (ctx) => {
    if (!ctx.get('authorization') && !ctx.cookies.get(SESSION_COOKIE)) return false;
    try {
      return (await auth.identify(ctx as unknown as ApiContext)).role === 'admin';
    } catch {
      return false;
    }
  });
  const router = new Router<ApiState>({ prefix: '/api' });
  sessionRoutes(router, { auth, setup: c?.setup, tokens: c?.tokens });
  callRoutes(router, auth, deps.calls, deps.dataDir);
  voicedropRoutes(router, { auth, calls: deps.calls, numbers: deps.numbers, sounds: deps.sounds });
  voicemailRoutes(router, { auth, calls: deps.calls, extensions: deps.extensions, numbers: deps.numbers, dataDir: deps.dataDir, logger: deps.logger });
  ttsRoutes(router, auth, deps.sounds);
  soundRoutes(router, { auth, library: deps.sounds, ...(deps.maxUploadBytes !== undefined ? { maxUploadBytes: deps.maxUploadBytes } : {}) });
  if (deps.sipGuard) sipBanRoutes(router, auth, deps.sipGuard, deps.sipBans);
  if (deps.queueService && deps.queues) {
    queueRoutes(router, { auth, service: deps.queueService, queues: deps.queues, users: deps.users, clock: deps.clock });
    callbackRoutes(router, { auth, service: deps.queueService, queues: deps.queues });
  }
  let events: EventSocketServer | undefined;
  let wallboard: Wallboard | undefined;
  if (c) {
    const endAccess = (userId: number): void => {
      auth.endSessionsOf(userId);
      c.tokens.deleteForUser(userId);
    };
    userRoutes(router, { auth, users: deps.users, endAccess });
    extensionRoutes(router, { auth, extensions: deps.extensions, users: deps.users, registrations: c.registrations, credentialsChanged: c.credentialsChanged });
    settingsRoutes(router, auth, c.settings);
    systemRoutes(router, { auth, dataDir: deps.dataDir, version: c.version, startedAt: c.startedAt, now: () => deps.clock.now(), health: c.health, logTail: c.logTail });
    trunkRoutes(router, { auth, trunks: c.trunks, status: c.trunkStatus, reload: c.reloadTrunks });
    auditRoutes(router, auth, c.audit);
    events = new EventSocketServer({ bus: c.bus, auth, users: deps.users, app: api.app, clock: deps.clock, logger: deps.logger });
    api.onUpgrade(EVENTS_PATH, events.handleUpgrade);
    if (deps.notifier) notificationRoutes(router, { auth, settings: c.settings, notifier: deps.notifier });
    if (deps.wallboardTokens && deps.queueService) {
      wallboard = new Wallboard({ tokens: deps.wallboardTokens, service: deps.queueService, users: deps.users, bus: c.bus, clock: deps.clock, logger: deps.logger });
      wallboardRoutes(router, { auth, tokens: deps.wallboardTokens, wallboard, users: deps.users });
      api.onUpgrade(WALLBOARD_EVENTS_PATH, wallboard.handleUpgrade);
    }
  }
  if (deps.provisioning) {
    phoneRoutes(router, { auth, service: deps.provisioning.service, module: deps.provisioning.module });
    const files = new Router<ApiState>();
    provisioningFileRoutes(files, { service: deps.provisioning.service, clock: deps.clock, realm: deps.provisioning.realm });
    api.router.use(files.routes(), files.allowedMethods());
  }
  if (deps.certificate) tlsRoutes(router, auth, deps.certificate);
  if (deps.appliance) applianceRoutes(router, { auth, ...deps.appliance });
  if (deps.scenarioConfig) {
    scenarioConfigRoutes(router, auth, { ...deps.scenarioConfig, users: deps.users });
    inboxRoutes(router, auth, { ...deps.scenarioConfig, users: deps.users });
  }
  if (deps.scenarios) simulateRoutes(router, auth, deps.scenarios);
  api.router.use(router.routes(), router.allowedMethods());
  return { auth, events, wallboard, router };
}
