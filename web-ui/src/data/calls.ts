// /api/calls and /api/voicemails: call history with recordings, voicemail messages.
import { get, query, request } from './api.js';

export interface CallRecord {
  id: string;
  direction: string;
  caller: string;
  callerName?: string | null;
  callee: string;
  status: string;
  cause: string | null;
  startedAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  recording: string | null;
  [k: string]: unknown;
}

export interface Voicemail {
  id: number;
  extension: string | null;
  number: string | null;
  caller: string;
  callId: string | null;
  durationMs: number;
  heard: boolean;
  createdAt: number;
  audio: string;
}

export const listCalls = (opts: { limit?: number; before?: string } = {}): Promise<{ calls: CallRecord[]; next: string | null }> => get(`/calls${query(opts)}`);
export const listVoicemails = async (): Promise<Voicemail[]> => (await get<{ voicemails: Voicemail[] }>('/voicemails')).voicemails;
export const markHeard = (id: number, heard: boolean): Promise<unknown> => request('PATCH', `/voicemails/${id}`, { heard });
export const deleteVoicemail = (id: number): Promise<void> => request('DELETE', `/voicemails/${id}`);
