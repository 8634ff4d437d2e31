// /api/session, /api/setup, /api/tokens: who is logged in, login/logout, password, first-run setup, API tokens.
import { get, request, setCsrfToken } from './api.js';

export type Right = 'scenarios' | 'queues' | 'history' | 'calls' | 'callbacks' | 'numbers' | 'sounds' | 'phones' | 'trunks' | 'users' | 'settings';
export const RIGHTS: readonly Right[] = ['scenarios', 'queues', 'history', 'calls', 'callbacks', 'numbers', 'sounds', 'phones', 'trunks', 'users', 'settings'];

export interface SessionUser {
  id: number;
  username: string;
  name: string;
  role: 'admin' | 'user';
  rights: Right[];
  language: string;
}

export interface ApiTokenInfo {
  id: number;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number | null;
}

export function hasRight(user: SessionUser, right: Right | 'admin'): boolean {
  if (user.role === 'admin') return true;
  return right !== 'admin' && user.rights.includes(right);
}

export async function currentSession(): Promise<SessionUser> {
  const r = await get<{ user: SessionUser; csrfToken: string | null }>('/session');
  setCsrfToken(r.csrfToken);
  return r.user;
}

export async function login(username: string, password: string): Promise<SessionUser> {
  const r = await request<{ user: SessionUser; csrfToken: string }>('POST', '/session', { username, password });
  setCsrfToken(r.csrfToken);
  return r.user;
}

export async function logout(everywhere = false): Promise<void> {
  await request('DELETE', everywhere ? '/sessions' : '/session');
  setCsrfToken(null);
}

export const setupPending = async (): Promise<boolean> => (await get<{ pending: boolean }>('/setup')).pending;

export async function completeSetup(token: string, password: string): Promise<SessionUser> {
  const r = await request<{ user: SessionUser; csrfToken: string }>('POST', '/setup', { token, password });
  setCsrfToken(r.csrfToken);
  return r.user;
}

export const changePassword = (current: string, password: string): Promise<void> => request('PUT', '/session/password', { current, password });

export const updatePreferences = (p: { language?: string; name?: string; dnd?: boolean }): Promise<{ user: SessionUser }> => request('PATCH', '/session', p);

export const listTokens = async (): Promise<ApiTokenInfo[]> => (await get<{ tokens: ApiTokenInfo[] }>('/tokens')).tokens;
export const createToken = (name: string): Promise<{ token: ApiTokenInfo; secret: string }> => request('POST', '/tokens', { name });
export const deleteToken = (id: number): Promise<void> => request('DELETE', `/tokens/${id}`);
