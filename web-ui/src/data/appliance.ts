// /api/system/board and /api/system/update: the front panel (LEDs, reset button) and firmware updates.
import { ApiError, get, request, upload } from './api.js';

export type LedName = 'power' | 'phones' | 'calls' | 'update' | 'error';
export type LedPattern = 'off' | 'on' | 'blink-slow' | 'blink-fast';

export interface BoardState {
  board: string;
  title: string;
  driver: string;
  simulated: boolean;
  leds: Record<LedName, LedPattern>;
  overlay: string;
  button: { input: string | undefined; phase: string; pressed: boolean; heldMs: number; lastAction?: { action: string; heldMs: number; at: string } };
}

export interface UpdateStatus {
  state: string;
  currentVersion: string;
  compatible: string;
  bootSlot: string;
  progress?: { phase: 'upload' | 'install'; percent: number; message: string };
  error?: { code: string; message: string };
  slots: { name: string; bootname?: string; state: string; bootStatus?: string; bundleVersion?: string }[];
  history: { id: number; version: string; slot: string | null; state: string; message: string; startedAt: number; finishedAt: number | null }[];
}

export const getBoard = (): Promise<BoardState> => get('/system/board');
export const pressButton = (action: 'press' | 'release' | 'announce-ip'): Promise<unknown> => request('POST', '/system/board/button', { action });

/** undefined when the box has no update agent (503 update.unavailable). */
export async function getUpdate(): Promise<UpdateStatus | undefined> {
  try {
    return await get<UpdateStatus>('/system/update');
  } catch (err) {
    if (err instanceof ApiError && err.code === 'update.unavailable') return undefined;
    throw err;
  }
}

export const uploadBundle = (file: File, allowDowngrade: boolean, onProgress: (f: number) => void): Promise<{ version: string }> =>
  upload(`/system/update${allowDowngrade ? '?allowDowngrade=true' : ''}`, file, 'application/octet-stream', onProgress);
