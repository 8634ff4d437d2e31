// A fake systemd NOTIFY_SOCKET: a unix datagram socket (python3, as Node has none) that reports each message.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { tempDir } from './relais-process.js';

// Prints every datagram on one line (newlines → spaces) and closes descriptors passed with it: systemd-notify's
// barrier (BARRIER=1) waits until the receiver has closed the pipe it sent.
const RECEIVER = `
import os, socket, sys, array
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print("LISTENING", flush=True)
while True:
    data, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(64))
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
            for fd in fds:
                os.close(fd)
    print(data.decode("utf-8", "replace").strip().replace("\\n", " "), flush=True)
`;

export interface NotifySocket {
  path: string;
  /** Every message so far, one string each ("READY=1 STATUS=…"). */
  messages: string[];
  /** Resolves with the first message (from now or already received) that matches. */
  next(match: RegExp, timeoutMs?: number): Promise<string>;
  close(): void;
}

export async function startNotifySocket(): Promise<NotifySocket> {
  const socketPath = path.join(tempDir('notify-'), 'notify.sock');
  const child: ChildProcess = spawn('python3', ['-c', RECEIVER, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: string[] = [];
  const waiters: { match: RegExp; resolve: (m: string) => void }[] = [];
  let buf = '';
  let listening: () => void = () => {};
  const ready = new Promise<void>((r) => (listening = r));
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line === 'LISTENING') {
        listening();
        continue;
      }
      messages.push(line);
      for (const w of [...waiters]) if (w.match.test(line)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(line));
    }
  });
  await ready;
  return {
    path: socketPath,
    messages,
    next(match, timeoutMs = 10_000) {
      const seen = messages.find((m) => match.test(m));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no notify message matching ${match} within ${timeoutMs} ms; got ${JSON.stringify(messages)}`)), timeoutMs);
        waiters.push({ match, resolve: (m) => (clearTimeout(t), resolve(m)) });
      });
    },
    close() {
      child.kill();
    },
  };
}
