// The HTTP API (koa): JSON error middleware, /healthz, and the routes each module registers.
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import type { Duplex } from 'node:stream';
import https from 'node:https';
import Koa from 'koa';
import Router from '@koa/router';
import { publicHealth, type HealthReport } from '../health/index.js';
import { RelaisError, errorMessage, type BoxCertificate, type Logger, type Module, type ModuleHealth } from '../shared/index.js';
import { serveConsole } from './static.js';

/** Takes over an HTTP Upgrade request (WebSocket) for one path. */
export type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface ApiOptions {
  bind: string;
  port: number;
  logger: Logger;
  /** The appliance's health check (services/health), run at request time (a report a few seconds old is reused). */
  health: () => Promise<HealthReport>;
  /** The built web console served at "/" (default web-ui/dist of this checkout); false serves none. */
  webRoot?: string | false;
  /** The same app over HTTPS with the box's certificate (made at first start); port 0 = any free port. */
  https?: { port: number; certificate: BoxCertificate };
  /**
   * Host names the console answers to besides IP addresses, localhost and the box's own names (DNS rebinding: a
   * page of another site whose name was re-pointed at the box sends that name in Host and is refused).
   */
  hostNames?: readonly string[];
  /**
   * Whether plain HTTP requests are sent to the HTTPS port (308), read at each request (site setting
   * `https_redirect`, off by default so a box never locks anyone out). Phones' provisioning, /healthz and the
   * WebSocket stay on HTTP.
   */
  httpsRedirect?: () => boolean;
}

/** Paths never redirected to HTTPS: desk phones fetch their files over HTTP, monitors poll /healthz. */
const HTTP_ONLY_PATHS = /^\/(?:provisioning(?:\/|$)|healthz$)/;

/** Names a request's Host may carry: localhost, the box's host name (and .local), plus the configured ones. */
export function allowedHostNames(extra: readonly string[] = []): Set<string> {
  const host = os.hostname().toLowerCase();
  return new Set(['localhost', host, `${host}.local`, ...extra.map((n) => n.toLowerCase())]);
}

/** The host part of a Host header ("[::1]:8080" → "::1", "box.local:80" → "box.local"). */
function hostOf(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') < 0 ? h.length : h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return (colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h).replace(/\.$/, '');
}

export class ApiServer implements Module {
  readonly name = 'api';
  readonly app = new Koa();
  readonly router = new Router();
  private server: http.Server | undefined;
  private readonly upgrades = new Map<string, UpgradeHandler>();
  private readonly upgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const pathname = new URL(req.url ?? '/', 'http://relais').pathname;
    const handler = this.upgrades.get(pathname);
    if (this.unknownHost(req.headers.host) !== undefined) {
      socket.end('HTTP/1.1 421 Misdirected Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (!handler) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    handler(req, socket, head);
  };
  private httpsServer: https.Server | undefined;
  /** Why HTTPS is not served (certificate or port trouble): the console still works over HTTP. */
  private httpsError: string | undefined;
  private readonly log: Logger;
  private readonly hostNames: Set<string>;

  /**
   * DNS rebinding: an IP address in Host is always fine (no name to re-point); a name must be one of ours. The
   * unknown name, or undefined when the request may proceed (no Host at all: not a browser).
   */
  private unknownHost(header: string | undefined): string | undefined {
    if (!header) return undefined;
    const h = hostOf(header);
    return net.isIP(h) === 0 && !this.hostNames.has(h) ? h : undefined;
  }

  constructor(private readonly opts: ApiOptions) {
    this.log = opts.logger.child({ module: 'api' });
    this.hostNames = allowedHostNames(opts.hostNames);
    this.app.use(async (ctx, next) => {
      try {
        const unknown = this.unknownHost(ctx.get('host'));
        if (unknown !== undefined) {
          throw new RelaisError('http.host_unknown', `this appliance does not answer to the name "${unknown.slice(0, 80)}"; use its address, or add the name with --http-hosts`, {
            status: 421,
          });
        }
        const secureUrl = this.httpsRedirectTarget(ctx);
        if (secureUrl !== undefined) {
          ctx.status = 308; // keeps the method and body (an API POST stays a POST)
          ctx.redirect(secureUrl);
          return;
        }
        await next();
      } catch (err) {
        if (err instanceof RelaisError) {
          ctx.status = err.status;
          ctx.body = { error: err.toJSON() };
        } else {
          const status = (err as { status?: number }).status;
          if (typeof status === 'number' && status >= 400 && status < 500) {
            ctx.status = status;
            ctx.body = { error: { code: 'http.bad_request', message: (err as Error).message } };
          } else {
            this.log.error('request failed', { path: ctx.path, err });
            ctx.status = 500;
            ctx.body = { error: { code: 'internal', message: 'internal error; see the appliance log' } };
          }
        }
      }
    });
    // The whole report (checks and modules); publicHealth(report) is the status-only view for anonymous callers.
    this.router.get('/healthz', async (ctx) => {
      const report = await this.opts.health();
      ctx.status = report.status === 'down' ? 503 : 200;
      // Bans with addresses, thread ids, trunks and counts are for administrators; anyone gets up/degraded/down.
      ctx.body = (await this.healthDetailAllowed(ctx)) ? report : publicHealth(report);
    });
  }

  /** Whether a /healthz caller sees the detail (set by the REST API: an administrator's credentials). */
  private healthDetailAllowed: (ctx: Koa.Context) => Promise<boolean> = () => Promise.resolve(false);

  setHealthDetailAccess(allowed: (ctx: Koa.Context) => Promise<boolean>): void {
    this.healthDetailAllowed = allowed;
  }

  /** Routes HTTP Upgrade requests for `pathname` (e.g. /api/events) to a handler; others are refused. */
  onUpgrade(pathname: string, handler: UpgradeHandler): void {
    this.upgrades.set(pathname, handler);
  }

  async start(): Promise<void> {
    // Whatever no route answered (unknown path, wrong method) still gets a JSON error a client can read.
    this.app.use(async (ctx, next) => {
      await next();
      if ((ctx.body !== undefined && ctx.body !== null) || ![404, 405, 501].includes(ctx.status)) return;
      const status = ctx.status; // koa turns an empty response into 200 when a body is set
      ctx.body = {
        error:
          ctx.status === 404
            ? { code: 'http.not_found', message: `no such resource: ${ctx.method} ${ctx.path}` }
            : { code: 'http.method_not_allowed', message: `${ctx.method} is not allowed on ${ctx.path}${ctx.response.get('Allow') ? `; allowed: ${ctx.response.get('Allow')}` : ''}` },
      };
      ctx.status = status;
    });
    this.app.use(this.router.routes()).use(this.router.allowedMethods());
    if (this.opts.webRoot !== false) this.app.use(this.opts.webRoot === undefined ? serveConsole() : serveConsole(this.opts.webRoot));
    const server = http.createServer(this.app.callback());
    server.on('upgrade', this.upgrade);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.bind, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.log.info('console listening', { bind: this.opts.bind, port: this.port() });
    if (this.opts.https) await this.startHttps(this.opts.https);
  }

  private async startHttps(o: { port: number; certificate: BoxCertificate }): Promise<void> {
    try {
      await o.certificate.ensure();
      const server = https.createServer(o.certificate.pem(), this.app.callback());
      // The console's WebSocket over wss:// like over ws://.
      server.on('upgrade', this.upgrade);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(o.port, this.opts.bind, () => {
          server.off('error', reject);
          resolve();
        });
      });
      // An uploaded or regenerated certificate serves the next connection; open ones keep theirs.
      o.certificate.onChange(() => {
        try {
          server.setSecureContext(o.certificate.pem());
        } catch (err) {
          this.log.error('new certificate not loaded by the HTTPS server', { error: errorMessage(err) });
        }
      });
      this.httpsServer = server;
      this.httpsError = undefined;
      this.log.info('console listening over HTTPS', { bind: this.opts.bind, port: this.httpsPort() });
    } catch (err) {
      this.httpsError = `HTTPS not served on ${this.opts.bind}:${o.port}: ${errorMessage(err)}`;
      this.log.warn('https not started', { error: this.httpsError });
    }
  }

  /** Where a plain HTTP request goes when the redirect is on and HTTPS is served; undefined = answer it here. */
  private httpsRedirectTarget(ctx: Koa.Context): string | undefined {
    if (ctx.secure || !this.opts.httpsRedirect || HTTP_ONLY_PATHS.test(ctx.path)) return undefined;
    const port = this.httpsPort();
    if (port === undefined || !this.opts.httpsRedirect()) return undefined;
    const host = ctx.get('host');
    // The name the browser used (checked above against DNS rebinding), or the address it connected to.
    const name = host ? (host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '')) : (ctx.socket.localAddress ?? '127.0.0.1');
    return `https://${name}${port === 443 ? '' : `:${port}`}${ctx.url}`;
  }

  /** The bound HTTPS port, undefined when HTTPS is off or failed. */
  httpsPort(): number | undefined {
    const addr = this.httpsServer?.address();
    return typeof addr === 'object' && addr ? addr.port : undefined;
  }

  port(): number {
    const addr = this.server?.address();
    return typeof addr === 'object' && addr ? addr.port : this.opts.port;
  }

  async stop(): Promise<void> {
    const secure = this.httpsServer;
    this.httpsServer = undefined;
    if (secure) {
      secure.closeAllConnections();
      await new Promise<void>((resolve) => secure.close(() => resolve()));
    }
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  health(): ModuleHealth {
    if (!this.server) return { status: 'down' };
    if (this.httpsError) return { status: 'degraded', detail: { https: this.httpsError } };
    return this.opts.https ? { status: 'ok', detail: { httpsPort: this.httpsPort() } } : { status: 'ok' };
  }
}
