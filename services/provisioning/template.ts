// A small Mustache subset for the vendor templates: {{name}} (escaped for the file's format), {{{name}}} (raw),
// {{#name}}…{{/name}} (a list repeats, a truthy value shows once), {{^name}}…{{/name}} (shown when falsy/empty),
// {{! comment }}, dotted names. Templates are data files a technician may override (docs/provisioning.md).
import { RelaisError } from '../shared/index.js';

export type TemplateValue = string | number | boolean | null | undefined | TemplateView | TemplateValue[];
export interface TemplateView {
  [key: string]: TemplateValue;
}

export type Escaper = (text: string) => string;

export const escapeXml: Escaper = (s) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** Plain key = value files: a value must not start a new line (that would inject a key). */
export const escapeLine: Escaper = (s) => s.replace(/[\r\n]+/g, ' ');

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'var'; name: string; raw: boolean }
  | { kind: 'section'; name: string; inverted: boolean; children: Node[] };

const TAG = /\{\{(\{?)([#^/!]?)\s*([^}]*?)\s*\}?\}\}/g;

/** Parses once; errors name the template and the unbalanced tag. */
export function compileTemplate(source: string, name: string): Node[] {
  const root: Node[] = [];
  const stack: Array<{ name: string; children: Node[] }> = [{ name: '', children: root }];
  let last = 0;
  for (const m of source.matchAll(TAG)) {
    const [whole, brace, sigil, rawName] = m;
    const at = m.index;
    let text = source.slice(last, at);
    last = at + whole.length;
    const standalone = sigil === '#' || sigil === '^' || sigil === '/' || sigil === '!';
    // A section tag alone on its line leaves no blank line behind (Mustache "standalone" rule).
    if (standalone) {
      const lineStart = text.lastIndexOf('\n') + 1;
      const after = source.slice(last).match(/^[ \t]*(\r?\n|$)/);
      if (/^[ \t]*$/.test(text.slice(lineStart)) && after) {
        text = text.slice(0, lineStart);
        last += after[0].length;
      }
    }
    const top = stack[stack.length - 1]!;
    if (text) top.children.push({ kind: 'text', text });
    const tagName = rawName ?? '';
    if (sigil === '!') continue;
    if (sigil === '#' || sigil === '^') {
      const node: Node = { kind: 'section', name: tagName, inverted: sigil === '^', children: [] };
      top.children.push(node);
      stack.push({ name: tagName, children: node.children });
    } else if (sigil === '/') {
      if (stack.length === 1 || top.name !== tagName) {
        throw new RelaisError('provisioning.template_invalid', `template ${name}: {{/${tagName}}} closes ${stack.length === 1 ? 'nothing' : `{{#${top.name}}}`}`);
      }
      stack.pop();
    } else {
      top.children.push({ kind: 'var', name: tagName, raw: brace === '{' });
    }
  }
  if (stack.length > 1) throw new RelaisError('provisioning.template_invalid', `template ${name}: {{#${stack[stack.length - 1]!.name}}} is never closed`);
  const rest = source.slice(last);
  if (rest) root.push({ kind: 'text', text: rest });
  return root;
}

function lookup(stack: readonly TemplateValue[], name: string): TemplateValue {
  if (name === '.') return stack[stack.length - 1];
  const parts = name.split('.');
  for (let i = stack.length - 1; i >= 0; i--) {
    const ctx = stack[i];
    if (ctx === null || typeof ctx !== 'object' || Array.isArray(ctx) || !Object.hasOwn(ctx, parts[0]!)) continue;
    let v: TemplateValue = ctx[parts[0]!];
    for (const p of parts.slice(1)) {
      v = v !== null && typeof v === 'object' && !Array.isArray(v) ? v[p] : undefined;
    }
    return v;
  }
  return undefined;
}

function truthy(v: TemplateValue): boolean {
  return Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null && v !== false && v !== '';
}

function renderNodes(nodes: readonly Node[], stack: TemplateValue[], escape: Escaper, out: string[]): void {
  for (const n of nodes) {
    if (n.kind === 'text') out.push(n.text);
    else if (n.kind === 'var') {
      const v = lookup(stack, n.name);
      if (v === undefined || v === null || typeof v === 'object') continue;
      const s = String(v);
      out.push(n.raw ? s : escape(s));
    } else {
      const v = lookup(stack, n.name);
      if (n.inverted) {
        if (!truthy(v)) renderNodes(n.children, stack, escape, out);
      } else if (Array.isArray(v)) {
        for (const item of v) renderNodes(n.children, [...stack, item], escape, out);
      } else if (truthy(v)) {
        renderNodes(n.children, typeof v === 'object' ? [...stack, v] : stack, escape, out);
      }
    }
  }
}

export function renderTemplate(compiled: readonly Node[], view: TemplateView, escape: Escaper): string {
  const out: string[] = [];
  renderNodes(compiled, [view], escape, out);
  return out.join('');
}

export type CompiledTemplate = ReturnType<typeof compileTemplate>;
