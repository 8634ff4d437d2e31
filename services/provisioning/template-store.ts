// Finds a vendor template: the site's override (<dataDir>/provisioning/templates/<vendor>/<file>) before the built-in
// one; compiled once per file version (an edited override applies on the next fetch, no restart).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RelaisError } from '../shared/index.js';
import { compileTemplate, type CompiledTemplate } from './template.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Built-in templates: beside this file in the source tree, or found from dist/ (tsc copies no data files). */
export const BUILTIN_TEMPLATES = [path.join(HERE, 'templates'), path.resolve(HERE, '../../../services/provisioning/templates')].find((d) => fs.existsSync(d)) ??
  path.join(HERE, 'templates');

export interface TemplateSource {
  file: string;
  overridden: boolean;
  compiled: CompiledTemplate;
}

export class TemplateStore {
  private readonly cache = new Map<string, { mtimeMs: number; size: number; compiled: CompiledTemplate }>();

  constructor(
    /** The site's override folder (<dataDir>/provisioning/templates). */
    readonly overrideDir: string,
    readonly builtinDir: string = BUILTIN_TEMPLATES,
  ) {}

  get(vendor: string, name: string): TemplateSource {
    for (const [dir, overridden] of [[this.overrideDir, true], [this.builtinDir, false]] as const) {
      const file = path.join(dir, vendor, name);
      let st: fs.Stats;
      try {
        st = fs.statSync(file);
      } catch {
        continue;
      }
      const hit = this.cache.get(file);
      if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return { file, overridden, compiled: hit.compiled };
      const compiled = compileTemplate(fs.readFileSync(file, 'utf8'), `${vendor}/${name}${overridden ? ' (site override)' : ''}`);
      this.cache.set(file, { mtimeMs: st.mtimeMs, size: st.size, compiled });
      return { file, overridden, compiled };
    }
    throw new RelaisError('provisioning.template_missing', `no template ${vendor}/${name} in ${this.overrideDir} or ${this.builtinDir}`, { status: 500 });
  }
}
