// Inbound numbers (DIDs) with their per-number settings (docs/product.md §4) and assigned users.
import { prepared } from './prepared.js';
import { TableRepository } from './table-repository.js';
import type { Database } from '../storage/index.js';
import { RelaisError } from '../shared/index.js';

export type NumberMode = 'receive' | 'forward' | 'reject';
export const NUMBER_MODES: readonly NumberMode[] = ['receive', 'forward', 'reject'];
export type RingMode = 'random' | 'longest_idle' | 'simultaneous';
export const RING_MODES: readonly RingMode[] = ['random', 'longest_idle', 'simultaneous'];
/** The ready-made answering behaviours of docs/product.md §2 (each generates the number's scenario). */
export type Behaviour = 'smart_answering' | 'custom_smart_answering' | 'forward_only' | 'forward_then_smart';
export const BEHAVIOURS: readonly Behaviour[] = ['smart_answering', 'custom_smart_answering', 'forward_only', 'forward_then_smart'];

/** docs/product.md §4: what happens with no agent online (all six) or when calls are not accepted (all but forward). */
export type OfflineAction =
  | { type: 'ringing' }
  | { type: 'busy' }
  | { type: 'hangup' }
  | { type: 'message'; sound: string }
  | { type: 'voicemail' }
  | { type: 'forward'; to: string };
export const OFFLINE_ACTION_TYPES = ['ringing', 'busy', 'hangup', 'message', 'voicemail', 'forward'] as const;

export interface InboundNumber {
  id: number;
  did: string;
  name: string;
  trunkId: number | null;
  mode: NumberMode;
  forwardTo: string | null;
  record: boolean;
  ringMode: RingMode;
  behaviour: Behaviour | null;
  offlineAction: OfflineAction;
  unavailableAction: OfflineAction;
  welcomeSoundId: number | null;
  scenarioId: number | null;
  /** Assigned users: only they may call out with, or take calls on, the number. */
  userIds: number[];
}

export type InboundNumberInput = Partial<Omit<InboundNumber, 'id' | 'did'>> & { did: string };

interface Row {
  id: number;
  did: string;
  name: string;
  trunk_id: number | null;
  mode: NumberMode;
  forward_to: string | null;
  record: number;
  ring_mode: RingMode;
  behaviour: Behaviour | null;
  offline_action: string;
  unavailable_action: string;
  welcome_sound_id: number | null;
  scenario_id: number | null;
}

export const DID_RE = /^\+?[0-9]{2,20}$/;

export class NumberRepository extends TableRepository<Row, InboundNumber> {
  constructor(db: Database) {
    super(db, { table: 'numbers', what: 'number' });
  }

  protected toEntity(r: Row): InboundNumber {
    const userIds = (prepared(this.db, 'SELECT user_id FROM number_users WHERE number_id = ? ORDER BY user_id').all(r.id) as { user_id: number }[]).map((x) => x.user_id);
    return {
      id: r.id,
      did: r.did,
      name: r.name,
      trunkId: r.trunk_id,
      mode: r.mode,
      forwardTo: r.forward_to,
      record: r.record === 1,
      ringMode: r.ring_mode,
      behaviour: r.behaviour,
      offlineAction: JSON.parse(r.offline_action) as OfflineAction,
      unavailableAction: JSON.parse(r.unavailable_action) as OfflineAction,
      welcomeSoundId: r.welcome_sound_id,
      scenarioId: r.scenario_id,
      userIds,
    };
  }




  /** The number's default voicedrop message (a sound id), null when it has none (docs/calls.md "Voicedrop"). */
  voicedropSound(id: number): number | null {
    return (prepared(this.db, 'SELECT voicedrop_sound_id AS s FROM numbers WHERE id = ?').get(id) as { s: number | null } | undefined)?.s ?? null;
  }

  setVoicedropSound(id: number, soundId: number | null): void {
    prepared(this.db, 'UPDATE numbers SET voicedrop_sound_id = ? WHERE id = ?').run(soundId, id);
  }

  findByDid(did: string): InboundNumber | undefined {
    return this.findOne('did', did);
  }

  private check(n: Omit<InboundNumber, 'id' | 'userIds'>): void {
    if (!DID_RE.test(n.did)) throw new RelaisError('number.did_invalid', `number "${n.did}" must be digits with an optional leading +`, { field: 'did' });
    if (!NUMBER_MODES.includes(n.mode)) throw new RelaisError('number.mode_invalid', `mode "${n.mode}" is not one of ${NUMBER_MODES.join(', ')}`, { field: 'mode' });
    if (!RING_MODES.includes(n.ringMode)) throw new RelaisError('number.ring_mode_invalid', `ring mode "${n.ringMode}" is not one of ${RING_MODES.join(', ')}`, { field: 'ringMode' });
    if (n.behaviour !== null && !BEHAVIOURS.includes(n.behaviour)) throw new RelaisError('number.behaviour_invalid', `behaviour "${n.behaviour}" is not one of ${BEHAVIOURS.join(', ')}`, { field: 'behaviour' });
    if (n.mode === 'forward' && !n.forwardTo) throw new RelaisError('number.forward_to_missing', 'mode "forward" needs a number to forward to', { field: 'forwardTo' });
    if (n.unavailableAction.type === 'forward') throw new RelaisError('number.unavailable_forward', 'when calls are not accepted they cannot be forwarded', { field: 'unavailableAction' });
  }

  create(input: InboundNumberInput): InboundNumber {
    const n = {
      did: input.did,
      name: input.name ?? '',
      trunkId: input.trunkId ?? null,
      mode: input.mode ?? 'receive',
      forwardTo: input.forwardTo ?? null,
      record: input.record ?? false,
      ringMode: input.ringMode ?? 'simultaneous',
      behaviour: input.behaviour ?? null,
      offlineAction: input.offlineAction ?? { type: 'voicemail' as const },
      unavailableAction: input.unavailableAction ?? { type: 'busy' as const },
      welcomeSoundId: input.welcomeSoundId ?? null,
      scenarioId: input.scenarioId ?? null,
    };
    this.check(n);
    if (this.findByDid(n.did)) throw new RelaisError('number.exists', `number ${n.did} already exists`, { field: 'did', status: 409 });
    const info = prepared(this.db, `INSERT INTO numbers (did, name, trunk_id, mode, forward_to, record, ring_mode, behaviour, offline_action,
                  unavailable_action, welcome_sound_id, scenario_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(n.did, n.name, n.trunkId, n.mode, n.forwardTo, n.record ? 1 : 0, n.ringMode, n.behaviour, JSON.stringify(n.offlineAction), JSON.stringify(n.unavailableAction), n.welcomeSoundId, n.scenarioId);
    const id = Number(info.lastInsertRowid);
    // docs/product.md §4: a new number is assigned to all users unless told otherwise.
    if (input.userIds === undefined) prepared(this.db, 'INSERT INTO number_users (number_id, user_id) SELECT ?, id FROM users').run(id);
    else this.setUsers(id, input.userIds);
    return this.require(id);
  }

  update(id: number, patch: Partial<Omit<InboundNumber, 'id'>>): InboundNumber {
    const cur = this.require(id);
    const n = { ...cur, ...patch };
    this.check(n);
    const other = this.findByDid(n.did);
    if (other && other.id !== id) throw new RelaisError('number.exists', `number ${n.did} already exists`, { field: 'did', status: 409 });
    prepared(this.db, `UPDATE numbers SET did = ?, name = ?, trunk_id = ?, mode = ?, forward_to = ?, record = ?, ring_mode = ?, behaviour = ?,
                  offline_action = ?, unavailable_action = ?, welcome_sound_id = ?, scenario_id = ? WHERE id = ?`)
      .run(n.did, n.name, n.trunkId, n.mode, n.forwardTo, n.record ? 1 : 0, n.ringMode, n.behaviour, JSON.stringify(n.offlineAction), JSON.stringify(n.unavailableAction), n.welcomeSoundId, n.scenarioId, id);
    if (patch.userIds !== undefined) this.setUsers(id, patch.userIds);
    return this.require(id);
  }

  setUsers(id: number, userIds: readonly number[]): void {
    prepared(this.db, 'DELETE FROM number_users WHERE number_id = ?').run(id);
    const ins = prepared(this.db, 'INSERT OR IGNORE INTO number_users (number_id, user_id) VALUES (?, ?)');
    for (const u of userIds) ins.run(id, u);
  }

  /** docs/product.md §4: a new user is assigned to all numbers. */
  assignUserToAll(userId: number): void {
    prepared(this.db, 'INSERT OR IGNORE INTO number_users (number_id, user_id) SELECT id, ? FROM numbers').run(userId);
  }

}
