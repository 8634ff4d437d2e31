// What the API's WebSockets (/api/events, /api/wallboard/events) share: the same-origin check and the JSON refusal.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { RelaisError } from '../shared/index.js';

/**
 * Cross-site WebSocket hijacking: a browser sends Origin on every WebSocket; it must be this appliance (`host`, the
 * request's Host). A client without Origin (a script) passes.
 */
export function checkSocketOrigin(origin: string | undefined, host: string | undefined, what: string): void {
  if (origin === undefined) return;
  let from = '';
  try {
    from = new URL(origin).host;
  } catch {
    /* not a URL */
  }
  if (from !== host) throw new RelaisError('auth.cross_origin', `a page from ${origin} may not ${what}`, { status: 403 });
}

/** Ends an upgrade request with the error as the API answers it ({error: {code, message}}). */
export function refuseUpgrade(socket: Duplex, err: unknown): void {
  const status = err instanceof RelaisError ? err.status : 500;
  const body = JSON.stringify({ error: err instanceof RelaisError ? err.toJSON() : { code: 'internal', message: 'internal error' } });
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
