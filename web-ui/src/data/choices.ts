// The names the configuration pages offer in their pickers (sounds, users, queues, scenarios, numbers, trunks), each
// read only when the user has the right to its module; a list the user may not read stays undefined (free text).
import { get } from './api.js';
import { hasRight, type Right, type SessionUser } from './session.js';

export interface Choices {
  sounds?: string[];
  users?: string[];
  queues?: string[];
  scenarios?: string[];
  numbers?: { did: string; name: string; scenario?: string }[];
  trunks?: string[];
}

type Kind = keyof Choices;

const SOURCES: Record<Kind, { right: Right; read: () => Promise<unknown> }> = {
  sounds: { right: 'sounds', read: async () => (await get<{ sounds: { name: string }[] }>('/sounds')).sounds.map((s) => s.name) },
  users: { right: 'users', read: async () => (await get<{ users: { username: string }[] }>('/users?limit=500')).users.map((u) => u.username) },
  queues: { right: 'queues', read: async () => (await get<{ queues: { name: string }[] }>('/queues')).queues.map((q) => q.name) },
  scenarios: { right: 'scenarios', read: async () => (await get<{ scenarios: { name: string }[] }>('/scenarios')).scenarios.map((s) => s.name) },
  numbers: {
    right: 'numbers',
    read: async () => (await get<{ numbers: { did: string; name?: string; scenario?: string }[] }>('/numbers')).numbers.map((n) => ({ did: n.did, name: n.name ?? '', ...(n.scenario ? { scenario: n.scenario } : {}) })),
  },
  trunks: { right: 'trunks', read: async () => (await get<{ trunks: { name: string }[] }>('/trunks')).trunks.map((x) => x.name) },
};

export async function loadChoices(user: SessionUser, kinds: Kind[]): Promise<Choices> {
  const out: Choices = {};
  await Promise.all(
    kinds.map(async (k) => {
      if (!hasRight(user, SOURCES[k].right)) return;
      try {
        (out as Record<Kind, unknown>)[k] = await SOURCES[k].read();
      } catch {
        /* not readable: the picker takes free text */
      }
    }),
  );
  return out;
}
