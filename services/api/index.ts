// API: koa REST server, health endpoint, authentication (sessions, Basic, rights) and the /api resources.
export { ApiServer, type ApiOptions } from './app.js';
export { mountRestApi, type RestApiDeps } from './rest.js';
export { Authenticator, SessionStore, LoginThrottle, SESSION_COOKIE, type ApiState, type ApiContext, type Session, type SessionLimits, type AuthOptions } from './auth.js';
export { parseMultipart, type MultipartForm, type MultipartFile } from './body.js';
export { byteRange } from './files.js';
export { MOH_NOTICE } from './routes/sounds.js';
