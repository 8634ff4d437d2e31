// Key/value settings. Site-level settings (from the site file) live under the "site." prefix.
import { prepared, readCache } from './prepared.js';
import type { Database } from '../storage/index.js';

export class SettingsRepository {
  constructor(private readonly db: Database) {}

  get(key: string): string | undefined {
    const r = readCache(this.db).get('SELECT value FROM settings WHERE key = ?', key) as { value: string } | undefined;
    return r?.value;
  }

  set(key: string, value: string): void {
    prepared(this.db, 'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  getJson<T>(key: string): T | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }

  setJson(key: string, value: unknown): void {
    this.set(key, JSON.stringify(value));
  }

  /** A site-level setting from the site file (`settings:` section), e.g. site('timezone'). */
  site<T extends string | number | boolean = string>(key: string): T | undefined {
    return this.getJson<T>(`site.${key}`);
  }

  delete(key: string): void {
    prepared(this.db, 'DELETE FROM settings WHERE key = ?').run(key);
  }

  /** Every setting whose key starts with prefix, sorted by key. */
  list(prefix = ''): { key: string; value: string }[] {
    return prepared(this.db, "SELECT key, value FROM settings WHERE substr(key, 1, length(?)) = ? ORDER BY key").all(prefix, prefix) as { key: string; value: string }[];
  }

  deletePrefix(prefix: string): void {
    prepared(this.db, 'DELETE FROM settings WHERE substr(key, 1, length(?)) = ?').run(prefix, prefix);
  }
}
