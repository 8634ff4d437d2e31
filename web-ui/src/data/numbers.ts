// /api/numbers: inbound numbers with every per-number setting (site file form), and the answering behaviours that
// generate a number's scenario (POST /api/numbers/:id/behaviour).
import { get, request } from './api.js';
import type { Language, LocalisedName, Scenario } from './scenarios.js';

export type NumberMode = 'receive' | 'forward' | 'reject';
export const NUMBER_MODES: readonly NumberMode[] = ['receive', 'forward', 'reject'];
export type RingMode = 'simultaneous' | 'random' | 'longest_idle';
export const RING_MODES: readonly RingMode[] = ['simultaneous', 'random', 'longest_idle'];

/** What happens when no assigned user is online (all six), or when the number does not accept calls (not forward). */
export type OfflineAction = { type: 'ringing' } | { type: 'busy' } | { type: 'hangup' } | { type: 'message'; sound: string } | { type: 'voicemail' } | { type: 'forward'; to: string };
export type OfflineType = OfflineAction['type'];
export const OFFLINE_TYPES: readonly OfflineType[] = ['ringing', 'busy', 'hangup', 'message', 'voicemail', 'forward'];

export type BehaviourType = 'smart_answering' | 'custom_smart_answering' | 'forward_only' | 'forward_then_smart';
export const BEHAVIOUR_TYPES: readonly BehaviourType[] = ['smart_answering', 'custom_smart_answering', 'forward_only', 'forward_then_smart'];

/** A `numbers[]` item of the site file. */
export interface NumberSettings {
  did: string;
  name?: string;
  trunk?: string;
  mode?: NumberMode;
  forward_to?: string;
  record?: boolean;
  ring_mode?: RingMode;
  behaviour?: BehaviourType;
  offline_action?: OfflineAction;
  unavailable_action?: OfflineAction;
  welcome_sound?: string;
  voicedrop_sound?: string;
  scenario?: string;
  users?: string[];
}

export interface InboundNumber extends NumberSettings {
  id: number;
}

export interface CustomOption {
  name: LocalisedName;
  action: { type: 'voicemail'; mailbox?: string } | { type: 'forward'; to: string };
}

export type SmartSpec = { type: 'smart_answering'; languages?: Language[] } | { type: 'custom_smart_answering'; languages?: Language[]; welcome?: LocalisedName; options: CustomOption[] };
export type BehaviourSpec = SmartSpec | { type: 'forward_only'; to: string } | { type: 'forward_then_smart'; to: string; ring_time?: number; then?: SmartSpec };

export const listNumbers = async (): Promise<InboundNumber[]> => (await get<{ numbers: InboundNumber[] }>('/numbers')).numbers;
export const createNumber = async (n: NumberSettings): Promise<InboundNumber> => (await request<{ number: InboundNumber }>('POST', '/numbers', n)).number;
export const saveNumber = async (id: number, n: NumberSettings): Promise<InboundNumber> => (await request<{ number: InboundNumber }>('PUT', `/numbers/${id}`, n)).number;
export const deleteNumber = (id: number): Promise<void> => request('DELETE', `/numbers/${id}`);
export const applyBehaviour = (id: number, spec: BehaviourSpec): Promise<{ number: InboundNumber; scenario: Scenario }> => request('POST', `/numbers/${id}/behaviour`, spec);
