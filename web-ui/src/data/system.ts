// /api/system and /api/audit: the box, its health, logs, backup and restore, the audit log.
import { get, query, request, upload } from './api.js';

export interface HealthSample {
  at: number;
  cpu: number;
  memUsed: number;
  memTotal: number;
  temperature: number | null;
  diskUsed: number;
  diskTotal: number;
  uptimeS: number;
}

export interface SystemInfo {
  version: string;
  node: string;
  hostname: string;
  uptimeS: number;
  processUptimeS: number;
  network: { name: string; address: string; family: string; mac: string; cidr: string | null }[];
  restorePending: boolean;
}

export interface AuditEntry {
  id: number;
  at: number;
  username: string | null;
  source: string;
  action: string;
  resource: string;
  target: string | null;
  status: number;
}

export const getSystem = (): Promise<SystemInfo> => get('/system');
export const getHealth = (): Promise<{ latest: HealthSample | null; samples: HealthSample[] }> => get('/system/health');
export const getLogs = async (lines = 200): Promise<string[]> => (await get<{ lines: string[] }>(`/system/logs${query({ lines })}`)).lines;
export const BACKUP_URL = '/api/system/backup';
export const uploadRestore = (file: File, onProgress: (f: number) => void): Promise<{ restartRequired: boolean; backup: { createdAt: string } }> =>
  upload('/system/restore', file, 'application/gzip', onProgress);
export const cancelRestore = (): Promise<void> => request('DELETE', '/system/restore');
export const listAudit = (opts: { limit?: number; before?: number } = {}): Promise<{ entries: AuditEntry[]; next: string | null }> => get(`/audit${query(opts)}`);
