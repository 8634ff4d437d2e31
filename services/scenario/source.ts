// The interpreter's view of the directory, read per call (a scenario or number changed in the API applies to the next call).
import type { Directory, Language } from '../directory/index.js';
import { LANGUAGES } from '../directory/index.js';
import type { ScenarioSource } from './interpreter.js';

export function directorySource(dir: Directory): ScenarioSource {
  return {
    scenarioById: (id) => dir.scenarios.get(id),
    scenarioByName: (name) => dir.scenarios.findByName(name),
    userByName: (username) => dir.users.findByUsername(username),
    userById: (id) => dir.users.get(id),
    soundName: (id) => dir.sounds.get(id)?.name,
    language: () => {
      const raw = dir.settings.get('site.language')?.replace(/^"|"$/g, '');
      return (LANGUAGES as readonly string[]).includes(raw ?? '') ? (raw as Language) : 'en';
    },
  };
}

/**
 * Online (docs/calls.md "Scenario interpreter"): the user has at least one registered phone on one of its
 * extensions and is not in do-not-disturb.
 */
export function onlineCheck(dir: Directory, registered: (extensionNumber: string) => boolean): (userId: number) => boolean {
  return (userId) => {
    const u = dir.users.get(userId);
    if (!u || u.dnd) return false;
    return dir.extensions.listByUser(userId).some((e) => registered(e.number));
  };
}
