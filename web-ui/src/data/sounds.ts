// /api/sounds: prompts and music on hold, uploaded as MP3/WAV with progress.
import { get, request, upload } from './api.js';

export type SoundKind = 'prompt' | 'moh' | 'system';

export interface Sound {
  id: number;
  name: string;
  kind: SoundKind;
  language: string | null;
  durationMs: number;
  createdAt: number;
  audio: string;
}

export const listSounds = async (): Promise<Sound[]> => (await get<{ sounds: Sound[] }>('/sounds')).sounds;
export const deleteSound = (name: string): Promise<void> => request('DELETE', `/sounds/${encodeURIComponent(name)}`);

export function uploadSound(file: File, name: string, kind: SoundKind, onProgress: (fraction: number) => void): Promise<{ sound: Sound; notice?: string }> {
  const form = new FormData();
  form.set('file', file);
  if (name) form.set('name', name);
  form.set('kind', kind);
  return upload('/sounds', form, undefined, onProgress);
}

/** A sound spoken from text (espeak-ng on the box, offline) in French, English or Spanish. */
export const speakSound = (s: { name: string; text: string; language: 'fr' | 'en' | 'es'; kind: 'prompt' | 'moh' }): Promise<{ sound: Sound; notice?: string }> =>
  request('POST', '/sounds/tts', s);
