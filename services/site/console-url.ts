// The console address to show a person: the bind address, or this box's first LAN IPv4 when bound to all.
import os from 'node:os';

export function consoleUrl(bind: string, port: number): string {
  let host = bind;
  if (bind === '0.0.0.0') {
    const lan = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal);
    host = lan?.address ?? '127.0.0.1';
  }
  return `http://${host}:${port}/`;
}
