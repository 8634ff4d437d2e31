// Edits of scenarios, numbers, holidays and services from the API, checked by the site file's own rules: each edit
// is tried on the current site as a whole (validateSite), so the API refuses exactly what an import would refuse.
import type { Store } from '../../storage/index.js';
import { Directory, formatPath, type Scenario, type ScenarioAction } from '../../directory/index.js';
import { applySite, readSite, validateSite, SiteFileError, type SiteFile, type SiteNumber, type SiteHoliday } from '../../site/index.js';
import { NotFoundError, RelaisError, type Clock } from '../../shared/index.js';
import { CalendarRepository } from '../calendar/index.js';
import { generateScenario, ServiceCatalogRepository, type BehaviourSpec, type CatalogCategory } from '../behaviours/index.js';

export interface EditorOptions {
  store: Store;
  /** SIP domain (= digest realm), as imports use. */
  realm: string;
  /** Told after every change, so running modules reload what they cache. */
  changed?: () => void;
  /** Dates whole-site applies (Relais' injected clock; the wall clock when absent). */
  clock?: Clock;
}

/** Where the edited item sits in the candidate site, and what its fields are called in the API body. */
type Place = readonly [sitePath: string, apiField: string];

function inside(path: string, prefix: string): string | undefined {
  if (prefix === '') return undefined;
  if (path === prefix) return '';
  if (path.startsWith(`${prefix}.`)) return path.slice(prefix.length + 1);
  if (path.startsWith(`${prefix}[`)) return path.slice(prefix.length);
  return undefined;
}

/** The first issue of a candidate site, as an API error naming the field inside the edited item. */
function refuse(err: SiteFileError, places: readonly Place[]): RelaisError {
  for (const issue of err.issues) {
    for (const [prefix, apiField] of places) {
      const rest = inside(issue.path, prefix);
      if (rest === undefined) continue;
      const field = apiField && rest ? (rest.startsWith('[') ? `${apiField}${rest}` : `${apiField}.${rest}`) : apiField || rest;
      const text = `${field ? `${field}: ` : ''}${issue.message}${issue.hint ? `; ${issue.hint}` : ''}`;
      return new RelaisError('site.invalid', text, field ? { field } : {});
    }
  }
  // The edit breaks something else (a number naming a deleted scenario…): a conflict, said in full.
  const issue = err.issues[0]!;
  const text = `${issue.path ? `${issue.path}: ` : ''}${issue.message}${issue.hint ? `; ${issue.hint}` : ''}`;
  return new RelaisError('site.conflict', `this change would leave the site invalid: ${text}`, { status: 409 });
}

export class SiteEditor {
  readonly dir: Directory;
  private readonly calendar: CalendarRepository;
  private readonly catalog: ServiceCatalogRepository;

  constructor(private readonly opts: EditorOptions) {
    const clock = opts.clock;
    this.dir = new Directory(opts.store.db, opts.realm, clock ? () => clock.now() : undefined);
    this.calendar = new CalendarRepository(opts.store.db);
    this.catalog = new ServiceCatalogRepository(opts.store.db);
  }

  site(): SiteFile {
    return readSite(this.opts.store, this.opts.realm);
  }

  private check(candidate: SiteFile, ...places: Place[]): SiteFile {
    try {
      return validateSite(JSON.parse(JSON.stringify(candidate)) as unknown);
    } catch (err) {
      if (err instanceof SiteFileError) throw refuse(err, places);
      throw err;
    }
  }

  private done<T>(v: T): T {
    this.opts.changed?.();
    return v;
  }

  // ------------------------------------------------------------------ scenarios

  requireScenario(id: number): Scenario {
    const s = this.dir.scenarios.get(id);
    if (!s) throw new RelaisError('scenario.not_found', `scenario ${id} does not exist`, { status: 404 });
    return s;
  }

  /** Creates a scenario (version 1) after the site file's checks (unknown names, loops, impossible conditions). */
  createScenario(name: unknown, actions: unknown, by: number | null): Scenario {
    if (typeof name === 'string' && this.dir.scenarios.findByName(name)) throw new RelaisError('scenario.exists', `scenario "${name}" already exists`, { field: 'name', status: 409 });
    const site = this.site();
    const i = site.scenarios.length;
    site.scenarios.push({ name: name as string, actions: actions as ScenarioAction[] });
    const ok = this.check(site, [`scenarios[${i}]`, '']);
    const s = ok.scenarios[i]!;
    if (this.dir.scenarios.findByName(s.name)) throw new RelaisError('scenario.exists', `scenario "${s.name}" already exists`, { field: 'name', status: 409 });
    return this.done(this.opts.store.transaction(() => this.dir.scenarios.create(s.name, s.actions, by)));
  }

  /** Saves new actions as the next version (identical actions keep the version), and renames when asked. */
  saveScenario(id: number, patch: { name?: unknown; actions?: unknown }, by: number | null): Scenario {
    const cur = this.requireScenario(id);
    const site = this.site();
    const i = site.scenarios.findIndex((s) => s.name === cur.name);
    const newName = (patch.name ?? cur.name) as string;
    site.scenarios[i] = { name: newName, actions: (patch.actions ?? cur.actions) as ScenarioAction[] };
    // References by name follow a rename (numbers, gotos elsewhere are checked as they stand).
    if (newName !== cur.name) for (const n of site.numbers) if (n.scenario === cur.name) n.scenario = newName;
    const ok = this.check(site, [`scenarios[${i}]`, '']);
    const s = ok.scenarios[i]!;
    return this.done(
      this.opts.store.transaction(() => {
        if (s.name !== cur.name) this.dir.scenarios.rename(id, s.name);
        return this.dir.scenarios.save(id, s.actions, by);
      }),
    );
  }

  restoreVersion(id: number, version: number, by: number | null): Scenario {
    const v = this.dir.scenarios.versions(id).find((x) => x.version === version);
    if (!v) throw new NotFoundError(`scenario ${id} version`, version);
    return this.saveScenario(id, { actions: v.actions }, by);
  }

  deleteScenario(id: number): void {
    const cur = this.requireScenario(id);
    const site = this.site();
    site.scenarios = site.scenarios.filter((s) => s.name !== cur.name);
    this.check(site); // any issue is a conflict: something still names it
    this.opts.store.transaction(() => this.dir.scenarios.delete(id));
    this.done(undefined);
  }

  // ------------------------------------------------------------------ numbers

  numbers(): (SiteNumber & { id: number })[] {
    const site = this.site();
    return site.numbers.map((n) => ({ id: this.dir.numbers.findByDid(n.did)!.id, ...n }));
  }

  number(id: number): SiteNumber & { id: number } {
    const n = this.numbers().find((x) => x.id === id);
    if (!n) throw new RelaisError('number.not_found', `number ${id} does not exist`, { status: 404 });
    return n;
  }

  /** Creates (id undefined) or replaces a number with the site file's item; every per-number setting applies. */
  putNumber(id: number | undefined, item: unknown): SiteNumber & { id: number } {
    const givenDid = (item as { did?: unknown } | null)?.did;
    if (typeof givenDid === "string") {
      const other = this.dir.numbers.findByDid(givenDid);
      if (other && other.id !== id) throw new RelaisError("number.exists", `number ${givenDid} already exists`, { field: 'did', status: 409 });
    }
    const site = this.site();
    let i = site.numbers.length;
    if (id !== undefined) {
      const cur = this.dir.numbers.get(id);
      if (!cur) throw new RelaisError('number.not_found', `number ${id} does not exist`, { status: 404 });
      i = site.numbers.findIndex((n) => n.did === cur.did);
      site.numbers[i] = item as SiteNumber;
    } else site.numbers.push(item as SiteNumber);
    const ok = this.check(site, [`numbers[${i}]`, '']);
    const did = ok.numbers[i]!.did;
    if (id === undefined && this.dir.numbers.findByDid(did)) throw new RelaisError('number.exists', `number ${did} already exists`, { field: 'did', status: 409 });
    this.opts.store.transaction(() => {
      // A new DID on an existing number keeps its identity (history, voicemail stay linked).
      if (id !== undefined) this.dir.numbers.update(id, { did });
      applySite(this.opts.store, this.opts.realm, ok, undefined, undefined, this.opts.clock);
    });
    this.opts.changed?.();
    return this.number(this.dir.numbers.findByDid(did)!.id);
  }

  deleteNumber(id: number): void {
    const cur = this.dir.numbers.get(id);
    if (!cur) throw new RelaisError('number.not_found', `number ${id} does not exist`, { status: 404 });
    this.opts.store.transaction(() => this.dir.numbers.delete(id));
    this.done(undefined);
  }

  /**
   * Generates the number's scenario from a behaviour (docs/product.md §2) — a new version of `<did>-answering` when it exists —
   * and points the number at it with recording on.
   */
  applyBehaviour(id: number, spec: BehaviourSpec, by: number | null): { number: SiteNumber & { id: number }; scenario: Scenario } {
    const cur = this.dir.numbers.get(id);
    if (!cur) throw new RelaisError('number.not_found', `number ${id} does not exist`, { status: 404 });
    const actions = generateScenario(spec, this.catalog.list());
    const name = `${cur.did.replace(/^\+/, '')}-answering`;
    const existing = this.dir.scenarios.findByName(name);
    const scenario = existing ? this.saveScenario(existing.id, { actions }, by) : this.createScenario(name, actions, by);
    const item = { ...this.number(id), behaviour: spec.type, scenario: name, record: true } as SiteNumber & { id?: number };
    delete item.id;
    const number = this.putNumber(id, item);
    return { number, scenario };
  }

  // ------------------------------------------------------------------ holidays and services

  /** Sets the country whose public holidays count (`none` for none) and/or the site's own dates. */
  setHolidays(input: { country?: unknown; dates?: unknown }): void {
    const site = this.site();
    if (input.country !== undefined) site.settings.holidays = input.country as string;
    if (input.dates !== undefined) site.holidays = input.dates as SiteHoliday[];
    const ok = this.check(site, ['settings.holidays', 'country'], ['holidays', 'dates']);
    this.opts.store.transaction(() => {
      if (input.country !== undefined) this.dir.settings.setJson('site.holidays', ok.settings.holidays);
      if (input.dates !== undefined) this.calendar.replaceHolidays(ok.holidays.map((h) => ({ date: h.date, name: h.name ?? '' })));
    });
    this.done(undefined);
  }

  services(): CatalogCategory[] {
    return this.catalog.list();
  }

  setServices(categories: unknown): CatalogCategory[] {
    const site = this.site();
    site.service_categories = categories as CatalogCategory[];
    const ok = this.check(site, ['service_categories', 'categories']);
    this.opts.store.transaction(() => this.catalog.replace(ok.service_categories));
    return this.done(this.catalog.list());
  }
}
