// The site's services and their categories (docs/product.md §2, §7): what smart answering offers, with names per language.
import type { Database } from 'better-sqlite3';
import { prepared } from '../../directory/prepared.js';
import { Checker, checkName, type LocalisedName, type Path } from '../../directory/index.js';

export interface CatalogService {
  name: LocalisedName;
}

export interface CatalogCategory {
  name: LocalisedName;
  services: CatalogService[];
}

/** A menu key is one digit: at most nine categories, and nine services in each. */
export const MAX_MENU_ENTRIES = 9;

/** Validates the site-file / API form of the catalog; issues carry their paths (`[1].services[0].name`). */
export function checkCatalog(c: Checker, v: unknown, path: Path): CatalogCategory[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    c.fail(path, 'expected a list of service categories');
    return [];
  }
  if (v.length > MAX_MENU_ENTRIES) c.fail(path, `at most ${MAX_MENU_ENTRIES} categories (one key each)`);
  const out: CatalogCategory[] = [];
  v.forEach((raw, i) => {
    const p = [...path, i];
    const o = c.obj(raw, p, ['name', 'services']);
    if (!o) return;
    const name = checkName(c, o.name, [...p, 'name']);
    const services: CatalogService[] = [];
    const list = c.list(o, 'services', p);
    if (o.services === undefined) c.fail([...p, 'services'], 'missing (required): the services of this category');
    else if (list.length === 0 && Array.isArray(o.services)) c.fail([...p, 'services'], 'a category needs at least one service');
    if (list.length > MAX_MENU_ENTRIES) c.fail([...p, 'services'], `at most ${MAX_MENU_ENTRIES} services in a category (one key each)`);
    list.forEach((sv, j) => {
      const sp = [...p, 'services', j];
      const so = c.obj(sv, sp, ['name']);
      if (!so) return;
      const sname = checkName(c, so.name, [...sp, 'name']);
      if (sname !== undefined) services.push({ name: sname });
    });
    if (name !== undefined) out.push({ name, services });
  });
  return out;
}

export class ServiceCatalogRepository {
  constructor(private readonly db: Database) {}

  list(): CatalogCategory[] {
    const cats = prepared(this.db, 'SELECT id, names FROM service_categories ORDER BY position, id').all() as { id: number; names: string }[];
    const svcs = prepared(this.db, 'SELECT category_id, names FROM services ORDER BY category_id, position, id').all() as { category_id: number; names: string }[];
    return cats.map((cat) => ({
      name: JSON.parse(cat.names) as LocalisedName,
      services: svcs.filter((s) => s.category_id === cat.id).map((s) => ({ name: JSON.parse(s.names) as LocalisedName })),
    }));
  }

  /** Replaces the whole catalog (site import, API). */
  replace(categories: readonly CatalogCategory[]): void {
    prepared(this.db, 'DELETE FROM service_categories').run();
    const insCat = prepared(this.db, 'INSERT INTO service_categories (position, names) VALUES (?, ?)');
    const insSvc = prepared(this.db, 'INSERT INTO services (category_id, position, names) VALUES (?, ?, ?)');
    categories.forEach((cat, i) => {
      const id = Number(insCat.run(i, JSON.stringify(cat.name)).lastInsertRowid);
      cat.services.forEach((s, j) => insSvc.run(id, j, JSON.stringify(s.name)));
    });
  }
}
