// API: koa REST server, health endpoint.
export { ApiServer, type ApiOptions } from './app.js';
