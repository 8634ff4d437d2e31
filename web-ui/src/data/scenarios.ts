// /api/scenarios (with versions), /api/simulate, /api/holidays, /api/override, /api/services: the scenario module's
// configuration in the site file's own form (docs/site-file.md, snake_case fields, names rather than ids).
import { get, query, request } from './api.js';

export type Language = 'fr' | 'en' | 'es';
export const LANGUAGES: readonly Language[] = ['fr', 'en', 'es'];
/** A name spoken or shown in the caller's language: one text, or one per language. */
export type LocalisedName = string | Partial<Record<Language, string>>;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A `when` condition: every field given must match. */
export interface Condition {
  dates?: string[];
  period?: { from: string; to: string };
  weekdays?: Weekday[];
  times?: string[];
  holiday?: boolean;
}

export const ACTION_TYPES = ['answer', 'play', 'set_language', 'distribute', 'call_user', 'transfer', 'detect_dtmf', 'collect_digits', 'voicemail', 'callback', 'goto_scenario', 'hangup'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export interface MenuOption {
  key: string;
  name: LocalisedName;
  actions: ScenarioAction[];
}

/** One action of a scenario; the fields of each type are in docs/site-file.md. */
export interface ScenarioAction {
  type: ActionType;
  when?: Condition;
  options?: MenuOption[];
  no_match?: ScenarioAction[];
  [field: string]: unknown;
}

export interface Scenario {
  id: number;
  name: string;
  version: number;
  updated_at: number;
  actions: ScenarioAction[];
}

export interface ScenarioVersion {
  version: number;
  created_at: number;
  created_by: string | null;
  actions: ScenarioAction[];
}

export const listScenarios = async (): Promise<Scenario[]> => (await get<{ scenarios: Scenario[] }>('/scenarios')).scenarios;
export const createScenario = async (name: string, actions: ScenarioAction[]): Promise<Scenario> => (await request<{ scenario: Scenario }>('POST', '/scenarios', { name, actions })).scenario;
export const saveScenario = async (id: number, s: { name?: string; actions: ScenarioAction[] }): Promise<Scenario> => (await request<{ scenario: Scenario }>('PUT', `/scenarios/${id}`, s)).scenario;
export const deleteScenario = (id: number): Promise<void> => request('DELETE', `/scenarios/${id}`);
export const listVersions = async (id: number): Promise<ScenarioVersion[]> => (await get<{ versions: ScenarioVersion[] }>(`/scenarios/${id}/versions`)).versions;
export const restoreVersion = async (id: number, version: number): Promise<Scenario> => (await request<{ scenario: Scenario }>('POST', `/scenarios/${id}/versions/${version}/restore`)).scenario;

// ------------------------------------------------------------------ simulator

export interface SimulateInput {
  number: string;
  from?: string;
  /** `YYYY-MM-DDTHH:MM` in the site's time zone. */
  at?: string;
  digits?: string[];
  /** Usernames taken as online; absent: those online now. */
  online?: string[];
  no_answer?: boolean;
}

/** One step of a call's path: the action's own fields, then what happened (or why it was skipped). */
export interface PathStep {
  type: string;
  skipped?: true;
  reason?: string;
  result?: string;
  key?: string;
  option?: string;
  digits?: string;
  [field: string]: unknown;
}

export interface SimulateResult {
  number: string;
  from: string;
  at: string;
  online: string[];
  path: PathStep[];
  variables: Record<string, string>;
  outcome: string;
}

export const simulate = (input: SimulateInput): Promise<SimulateResult> => request('POST', '/simulate', input);

// ------------------------------------------------------------------ calendar

export type OverrideMode = 'auto' | 'day' | 'night' | 'holiday';
export const OVERRIDE_MODES: readonly OverrideMode[] = ['auto', 'day', 'night', 'holiday'];
export interface Override {
  mode: OverrideMode;
  since: number | null;
  by: string | null;
}

export const HOLIDAY_COUNTRIES = ['FR', 'ES', 'UK', 'US', 'none'] as const;
export interface HolidayDate {
  date: string;
  name?: string;
}
export interface Holidays {
  country: string;
  timezone: string | null;
  year: number;
  holidays: { date: string; name: string; source: 'country' | 'site' }[];
  dates: HolidayDate[];
}

export const getHolidays = (year?: number): Promise<Holidays> => get(`/holidays${query({ year })}`);
export const setHolidays = (h: { country?: string; dates?: HolidayDate[] }): Promise<Holidays> => request('PUT', '/holidays', h);
export const getOverride = async (): Promise<Override> => (await get<{ override: Override }>('/override')).override;
export const setOverride = async (mode: OverrideMode): Promise<Override> => (await request<{ override: Override }>('PUT', '/override', { mode })).override;

// ------------------------------------------------------------------ services (smart answering)

export interface ServiceCategory {
  name: LocalisedName;
  services: { name: LocalisedName }[];
}

export const listServices = async (): Promise<ServiceCategory[]> => (await get<{ categories: ServiceCategory[] }>('/services')).categories;
export const saveServices = async (categories: ServiceCategory[]): Promise<ServiceCategory[]> => (await request<{ categories: ServiceCategory[] }>('PUT', '/services', { categories })).categories;

/** A localised name in one language (else the first one given). */
export function nameIn(name: LocalisedName, lang: Language): string {
  if (typeof name === 'string') return name;
  return name[lang] ?? Object.values(name).find((v) => v) ?? '';
}
