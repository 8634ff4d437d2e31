// API: koa REST server, health endpoint, authentication (sessions, Basic, rights) and the /api resources.
export { ApiServer, type ApiOptions } from './app.js';
export { mountRestApi, type RestApiDeps, type RestApi, type ConsoleDeps } from './rest.js';
export { ApiTokenRepository, API_TOKEN_PREFIX, type ApiToken } from './api-tokens.js';
export { FirstRunSetup, SETUP_PENDING_KEY } from './setup.js';
export { EventSocketServer, EVENTS_PATH, mayReceive, type HelloMessage } from './events-socket.js';
export { PENDING_RESTORE } from './routes/system.js';
export { readInput, readQuery, parse, schemaError, schemas } from './validate.js';
export { serveConsole, defaultWebRoot } from './static.js';
export { Authenticator, SessionStore, LoginThrottle, SESSION_COOKIE, CSRF_HEADER, isSafeMethod, type ApiState, type ApiContext, type Session, type SessionLimits, type AuthOptions } from './auth.js';
export { receiveMultipart, receiveRaw, UPLOAD_IDLE_MS, type ReceivedForm, type ReceivedFile, type MultipartLimits } from './upload.js';
export { byteRange } from './files.js';
export { MOH_NOTICE } from './routes/sounds.js';
export { WallboardTokenRepository, WALLBOARD_TOKEN_PREFIX, type WallboardToken } from './wallboard-tokens.js';
export { Wallboard, WALLBOARD_EVENTS_PATH, type WallboardState, type WallboardQueue, type WallboardAgent } from './wallboard.js';
