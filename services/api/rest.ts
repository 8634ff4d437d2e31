// The REST surface under /api: authentication first, then one router file per resource.
import Router from '@koa/router';
import type { CallModule } from '../call/index.js';
import type { ExtensionRepository, NumberRepository, QueueRepository, UserRepository } from '../directory/index.js';
import type { QueueService } from '../queue/index.js';
import type { SoundLibrary } from '../media/sounds/index.js';
import type { Clock, Logger } from '../shared/index.js';
import type { AuthGuard, BanRepository } from '../sip/index.js';
import type { ApiServer } from './app.js';
import { Authenticator, type ApiState, type SessionLimits } from './auth.js';
import { callRoutes } from './routes/calls.js';
import { callbackRoutes } from './routes/callbacks.js';
import { queueRoutes } from './routes/queues.js';
import { sessionRoutes } from './routes/session.js';
import { sipBanRoutes } from './routes/sip-bans.js';
import { soundRoutes } from './routes/sounds.js';
import { voicemailRoutes } from './routes/voicemails.js';

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
}

/** Registers /api/* on the server's router (before it starts); returns the authenticator (sessions, throttle). */
export function mountRestApi(api: ApiServer, deps: RestApiDeps): Authenticator {
  const auth = new Authenticator({
    users: deps.users,
    clock: deps.clock,
    logger: deps.logger.child({ module: 'api' }),
    ...(deps.sessions ? { sessions: deps.sessions } : {}),
    ...(deps.maxFailedLogins !== undefined ? { maxFailedLogins: deps.maxFailedLogins } : {}),
  });
  const router = new Router<ApiState>({ prefix: '/api' });
  sessionRoutes(router, auth);
  callRoutes(router, auth, deps.calls, deps.dataDir);
  voicemailRoutes(router, { auth, calls: deps.calls, extensions: deps.extensions, numbers: deps.numbers, dataDir: deps.dataDir, logger: deps.logger });
  soundRoutes(router, { auth, library: deps.sounds, ...(deps.maxUploadBytes !== undefined ? { maxUploadBytes: deps.maxUploadBytes } : {}) });
  if (deps.sipGuard) sipBanRoutes(router, auth, deps.sipGuard, deps.sipBans);
  if (deps.queueService && deps.queues) {
    queueRoutes(router, { auth, service: deps.queueService, queues: deps.queues, users: deps.users, clock: deps.clock });
    callbackRoutes(router, { auth, service: deps.queueService, queues: deps.queues });
  }
  api.router.use(router.routes(), router.allowedMethods());
  return auth;
}
