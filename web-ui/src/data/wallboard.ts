// /api/wallboard: the TV's queue board (a read-only token, no login) and its tokens (administrators).
import { get, request } from './api.js';

export interface WallboardQueue {
  id: number;
  name: string;
  availability: string;
  waiting: number;
  longestWaitSeconds: number;
  oldestWaitingSince: number | null;
  agents: { name: string; state: string; loggedIn: boolean; paused: boolean }[];
  answered: number;
  abandoned: number;
  serviceLevel: number | null;
  serviceLevelSeconds: number;
}

export interface WallboardState {
  at: number;
  since: number;
  queues: WallboardQueue[];
}

export interface WallboardToken {
  id: number;
  name: string;
  createdBy: string | null;
  createdAt: number;
  lastUsedAt: number | null;
}

export const listWallboardTokens = async (): Promise<WallboardToken[]> => (await get<{ tokens: WallboardToken[] }>('/wallboard/tokens')).tokens;
export const createWallboardToken = (name: string): Promise<{ token: WallboardToken; secret: string; url: string }> => request('POST', '/wallboard/tokens', { name });
export const revokeWallboardToken = (id: number): Promise<void> => request('DELETE', `/wallboard/tokens/${id}`);

/** The board's live stream: the state on connect and after every change; reconnects after a drop (not after a revocation). */
export function followWallboard(token: string, onState: (s: WallboardState | null, error?: string) => void): () => void {
  let ws: WebSocket | undefined;
  let stopped = false;
  let retry = 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connect = (): void => {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WebSocket(`${proto}//${location.host}/api/wallboard/events?token=${encodeURIComponent(token)}`);
    ws.onmessage = (m) => {
      retry = 1000;
      onState((JSON.parse(String(m.data)) as { state: WallboardState }).state);
    };
    ws.onclose = (e) => {
      if (stopped) return;
      if (e.code === 4001) return onState(null, 'revoked');
      onState(null, 'offline');
      timer = setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15_000);
    };
  };
  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    ws?.close();
  };
}
