// Scenarios: named, versioned action lists (each save bumps the version and keeps the old one).
import { prepared } from './prepared.js';
import { TableRepository } from './table-repository.js';
import type { Database } from '../storage/index.js';
import { RelaisError, NotFoundError } from '../shared/index.js';
import { formatPath } from './checker.js';
import { validateActions, type ScenarioAction } from './scenario-model.js';

export interface Scenario {
  id: number;
  name: string;
  version: number;
  actions: ScenarioAction[];
  updatedAt: number;
}

export interface ScenarioVersion {
  scenarioId: number;
  version: number;
  actions: ScenarioAction[];
  createdAt: number;
  createdBy: number | null;
}

interface Row {
  id: number;
  name: string;
  version: number;
  actions: string;
  updated_at: number;
}

function toScenario(r: Row): Scenario {
  return { id: r.id, name: r.name, version: r.version, actions: JSON.parse(r.actions) as ScenarioAction[], updatedAt: r.updated_at };
}

/** Validates actions given from outside (API); throws naming the first wrong field. */
export function requireValidActions(actions: unknown): ScenarioAction[] {
  const { actions: ok, issues } = validateActions(actions);
  if (issues.length > 0) {
    const i = issues[0]!;
    throw new RelaisError('scenario.invalid', `actions${i.path.length ? (typeof i.path[0] === 'number' ? '' : '.') + formatPath(i.path) : ''}: ${i.message}${i.hint ? `; ${i.hint}` : ''}`, { field: 'actions' });
  }
  return ok;
}

export class ScenarioRepository extends TableRepository<Row, Scenario> {
  constructor(db: Database, private readonly now: () => number = Date.now) {
    super(db, { table: 'scenarios', what: 'scenario' });
  }

  protected toEntity(r: Row): Scenario {
    return toScenario(r);
  }




  findByName(name: string): Scenario | undefined {
    return this.findOne('name', name);
  }

  create(name: string, actions: unknown, createdBy: number | null = null): Scenario {
    if (!name.trim()) throw new RelaisError('scenario.name_missing', 'a scenario needs a name', { field: 'name' });
    if (this.findByName(name)) throw new RelaisError('scenario.exists', `scenario "${name}" already exists`, { field: 'name', status: 409 });
    const valid = requireValidActions(actions);
    const at = this.now();
    const json = JSON.stringify(valid);
    const info = prepared(this.db, 'INSERT INTO scenarios (name, version, actions, updated_at) VALUES (?, 1, ?, ?)').run(name, json, at);
    const id = Number(info.lastInsertRowid);
    prepared(this.db, 'INSERT INTO scenario_versions (scenario_id, version, actions, created_at, created_by) VALUES (?, 1, ?, ?, ?)').run(id, json, at, createdBy);
    return this.require(id);
  }

  /** Saves new actions as the next version; saving identical actions changes nothing. */
  save(id: number, actions: unknown, createdBy: number | null = null): Scenario {
    const cur = this.require(id);
    const json = JSON.stringify(requireValidActions(actions));
    if (json === JSON.stringify(cur.actions)) return cur;
    const version = cur.version + 1;
    const at = this.now();
    prepared(this.db, 'UPDATE scenarios SET version = ?, actions = ?, updated_at = ? WHERE id = ?').run(version, json, at, id);
    prepared(this.db, 'INSERT INTO scenario_versions (scenario_id, version, actions, created_at, created_by) VALUES (?, ?, ?, ?, ?)').run(id, version, json, at, createdBy);
    return this.require(id);
  }

  rename(id: number, name: string): Scenario {
    this.require(id);
    const other = this.findByName(name);
    if (other && other.id !== id) throw new RelaisError('scenario.exists', `scenario "${name}" already exists`, { field: 'name', status: 409 });
    prepared(this.db, 'UPDATE scenarios SET name = ? WHERE id = ?').run(name, id);
    return this.require(id);
  }

  versions(id: number): ScenarioVersion[] {
    const rows = prepared(this.db, 'SELECT * FROM scenario_versions WHERE scenario_id = ? ORDER BY version').all(id) as {
      scenario_id: number;
      version: number;
      actions: string;
      created_at: number;
      created_by: number | null;
    }[];
    return rows.map((r) => ({ scenarioId: r.scenario_id, version: r.version, actions: JSON.parse(r.actions) as ScenarioAction[], createdAt: r.created_at, createdBy: r.created_by }));
  }

  /** Brings back an old version as a new one (history is never rewritten). */
  revert(id: number, version: number, createdBy: number | null = null): Scenario {
    const v = this.versions(id).find((x) => x.version === version);
    if (!v) throw new NotFoundError(`scenario ${id} version`, version);
    return this.save(id, v.actions, createdBy);
  }

}
