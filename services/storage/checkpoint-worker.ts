// The WAL checkpointer's thread (checkpointer.ts): folds the write-ahead log into the database file on its own
// connection, so that the copy and its fsync never hold up the signalling thread.
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import type { CheckpointReply, CheckpointRequest, CheckpointWorkerData } from './checkpoint-protocol.js';

const port = parentPort!;
const { file, intervalMs } = workerData as CheckpointWorkerData;
const post = (m: CheckpointReply): void => port.postMessage(m);

let db: BetterSqlite3.Database | undefined;
try {
  db = new BetterSqlite3(file, { fileMustExist: true });
  // This connection never writes rows: it only checkpoints, and must never wait on the signalling thread's writes.
  db.pragma('busy_timeout = 0');
  post({ op: 'ready' });
} catch (err) {
  post({ op: 'failed', message: (err as Error).message });
}

function checkpoint(): void {
  if (!db?.open) return;
  const start = performance.now();
  try {
    // PASSIVE: as many frames as no reader still needs, without waiting for readers or writers (sqlite.org/wal.html).
    const r = (db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>)[0];
    if (r && r.checkpointed > 0) post({ op: 'checkpointed', frames: r.checkpointed, log: r.log, ms: performance.now() - start });
  } catch (err) {
    post({ op: 'error', message: (err as Error).message });
  }
}

const timer = db ? setInterval(checkpoint, intervalMs) : undefined;

port.on('message', (m: CheckpointRequest) => {
  if (m.op !== 'stop') return;
  if (timer) clearInterval(timer);
  try {
    db?.close();
  } catch {
    /* already closed */
  }
  post({ op: 'stopped' });
  port.close();
});
