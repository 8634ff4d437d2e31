// Messages between the signalling thread and the WAL checkpointer's thread (checkpointer.ts).

export interface CheckpointWorkerData {
  file: string;
  intervalMs: number;
}

export type CheckpointRequest = { op: 'stop' };

export type CheckpointReply =
  | { op: 'ready' }
  | { op: 'failed'; message: string }
  | { op: 'checkpointed'; frames: number; log: number; ms: number }
  | { op: 'error'; message: string }
  | { op: 'stopped' };
