// The web console's files (web-ui/dist, built by esbuild) served at "/": gzip when pre-compressed, SPA fallback.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Koa from 'koa';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** web-ui/dist of this checkout (dist/services/api → ../../../web-ui/dist), or where RELAIS_WEB_ROOT says. */
export function defaultWebRoot(): string {
  return process.env.RELAIS_WEB_ROOT ?? path.resolve(HERE, '../../../web-ui/dist');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** What a console page may load and where it may connect: only this appliance (no CDN, works offline). */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self' ws: wss:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Relais</title>
<body><h1>Relais</h1><p>The web console is not built. Run <code>scripts/build</code>; the API answers under <code>/api</code>.</p></body></html>`;

/**
 * Koa middleware for GET/HEAD outside /api and /healthz. Hashed files (chunk-XXXX.js) are cached for a year;
 * index.html is never cached, so a firmware update shows the new console at the next load. A path without a file
 * extension that names no file is a console route: index.html answers it.
 */
export function serveConsole(root: string = defaultWebRoot()): Koa.Middleware {
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.path.startsWith('/api/') || ctx.path === '/api' || ctx.path === '/healthz') return next();
    let rel: string;
    try {
      rel = decodeURIComponent(ctx.path);
    } catch {
      return next();
    }
    if (rel.includes('\0')) return next();
    let file = path.resolve(root, `.${rel}`);
    if (file !== root && !file.startsWith(root + path.sep)) return next();
    let st = await fs.promises.stat(file).catch(() => undefined);
    if (st?.isDirectory()) {
      file = path.join(file, 'index.html');
      st = await fs.promises.stat(file).catch(() => undefined);
    }
    if (!st?.isFile()) {
      if (path.extname(rel) !== '') return next();
      file = path.join(root, 'index.html');
      st = await fs.promises.stat(file).catch(() => undefined);
      if (!st?.isFile()) {
        securityHeaders(ctx);
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = NOT_BUILT;
        return;
      }
    }
    const ext = path.extname(file);
    securityHeaders(ctx);
    ctx.set('Content-Type', TYPES[ext] ?? 'application/octet-stream');
    ctx.set('Cache-Control', /[-.][A-Z0-9]{8}\.(js|css)$/.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache');
    ctx.vary('Accept-Encoding');
    const gz = `${file}.gz`;
    if (ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
      const gst = await fs.promises.stat(gz).catch(() => undefined);
      if (gst?.isFile()) {
        ctx.set('Content-Encoding', 'gzip');
        send(ctx, gz, gst.size);
        return;
      }
    }
    send(ctx, file, st.size);
  };
}

function send(ctx: Koa.Context, file: string, size: number): void {
  ctx.status = 200;
  if (ctx.method !== 'HEAD') ctx.body = fs.createReadStream(file);
  ctx.length = size;
}

function securityHeaders(ctx: Koa.Context): void {
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'same-origin');
}
