// /api/inbox, /api/jobs, /api/blocklist, one call's path (/api/calls/:id), callbacks made from a call, voicedrop.
import { get, query, request } from './api.js';

export const INBOX_STATUSES = ['new', 'job', 'spam', 'closed', 'deleted'] as const;
export type InboxStatus = (typeof INBOX_STATUSES)[number];
export const JOB_STATUSES = ['open', 'done'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface InboxCall {
  id: string;
  caller: string;
  callee: string;
  number_id: number | null;
  started_at: number;
  answered_at: number | null;
  ended_at: number | null;
  service: string | null;
  status: InboxStatus;
  blocked: boolean;
}

export interface Job {
  id: number;
  title: string;
  caller: string;
  call_id: string | null;
  assignee: string | null;
  status: JobStatus;
  notes: string;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface BlockedCaller {
  id: number;
  number: string;
  action: string;
  scenario: string | null;
  note: string;
  created_by: string | null;
  created_at: number;
}

/** One step of the path an inbound call took through its number's handling (docs/calls.md). */
export interface PathStep {
  type: string;
  skipped?: true;
  reason?: string;
  result?: string;
  [field: string]: unknown;
}

export const listInbox = async (opts: { status?: InboxStatus | ''; before?: number; limit?: number } = {}): Promise<InboxCall[]> =>
  (await get<{ calls: InboxCall[] }>(`/inbox${query({ status: opts.status, before: opts.before, limit: opts.limit ?? 200 })}`)).calls;
export const setInboxStatus = (id: string, status: InboxStatus): Promise<{ call: InboxCall }> => request('PATCH', `/calls/${encodeURIComponent(id)}`, { status });
export const blockCaller = (id: string, block: boolean): Promise<{ call: InboxCall; blocked?: BlockedCaller }> => request('PATCH', `/calls/${encodeURIComponent(id)}`, { block_caller: block });
export const callPath = async (id: string): Promise<{ path: PathStep[] | null; recording: string | null }> => {
  const r = await get<{ call: { recording: string | null; endedAt: number | null }; path?: PathStep[] }>(`/calls/${encodeURIComponent(id)}`);
  return { path: r.path ?? null, recording: r.call.recording && r.call.endedAt ? r.call.recording : null };
};

export const listJobs = async (status?: JobStatus | ''): Promise<Job[]> => (await get<{ jobs: Job[] }>(`/jobs${query({ status })}`)).jobs;
export const createJob = async (j: { title?: string; call_id?: string; caller?: string; assignee?: string | null; notes?: string }): Promise<Job> => (await request<{ job: Job }>('POST', '/jobs', j)).job;
export const updateJob = async (id: number, patch: { title?: string; assignee?: string | null; status?: JobStatus; notes?: string }): Promise<Job> =>
  (await request<{ job: Job }>('PATCH', `/jobs/${id}`, patch)).job;
export const deleteJob = (id: number): Promise<void> => request('DELETE', `/jobs/${id}`);

export const listBlocklist = async (): Promise<BlockedCaller[]> => (await get<{ blocklist: BlockedCaller[] }>('/blocklist')).blocklist;
export const addBlocked = async (b: { number: string; note?: string }): Promise<BlockedCaller> => (await request<{ blocked: BlockedCaller }>('POST', '/blocklist', b)).blocked;
export const updateBlocked = async (id: number, b: { number?: string; note?: string }): Promise<BlockedCaller> => (await request<{ blocked: BlockedCaller }>('PATCH', `/blocklist/${id}`, b)).blocked;
export const deleteBlocked = (id: number): Promise<void> => request('DELETE', `/blocklist/${id}`);

/** "Call back": a callback to make, linked to the call it came from (LostCall when the call was lost). */
export const callBack = (number: string, originCallId?: string, linkType?: 'LostCall' | 'CallBack'): Promise<{ id: number; number: string; status: string }> =>
  request('POST', '/callbacks', { number, ...(originCallId ? { originCallId } : {}), ...(originCallId && linkType ? { linkType } : {}) });

/** Drops the number's voicedrop message into a live outbound call (the agent leaves). */
export const voicedrop = (callId: string): Promise<{ call: string; sound: string }> => request('POST', `/calls/${encodeURIComponent(callId)}/voicedrop`, {});
