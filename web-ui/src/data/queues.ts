// /api/queues and /api/callbacks: queues' live state, participants' login/pause, callbacks to make.
import { get, query, request } from './api.js';

export interface QueueParticipant {
  user: string | null;
  userId: number;
  loggedIn: boolean;
  paused: boolean;
  pauseReason: string | null;
  state: string;
}

export interface QueueState {
  id: number;
  name: string;
  shortNumber: string | null;
  strategy: string;
  availability: string;
  participants: QueueParticipant[];
  waiting: { caller: string; since: string; position: number; kind: string; ringing: boolean }[];
  connected: { caller: string; user: string | null }[];
}

export interface Callback {
  id: number;
  number: string;
  status: string;
  queue: string | null;
  dueAt: string;
  attempts: number;
  notes: string;
  lastResult: string | null;
}

export type ParticipantAction = 'login' | 'logout' | 'pause' | 'unpause';

export const listQueues = async (): Promise<QueueState[]> => (await get<{ queues: QueueState[] }>('/queues')).queues;
export const participantAction = (queueId: number, action: ParticipantAction, user?: string): Promise<QueueState> =>
  request('POST', `/queues/${queueId}/${action}`, user === undefined ? {} : { user });
export const setQueueClosed = (queueId: number, closed: boolean): Promise<QueueState> => request('PATCH', `/queues/${queueId}`, { closed });
export const listCallbacks = async (status?: string): Promise<Callback[]> => (await get<{ callbacks: Callback[] }>(`/callbacks${query({ status })}`)).callbacks;
export const cancelCallback = (id: number): Promise<void> => request('DELETE', `/callbacks/${id}`);
