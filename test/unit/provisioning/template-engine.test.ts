// The template language of the vendor files: variables, escaping, sections, inverted sections, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, escapeLine, escapeXml, renderTemplate } from '../../../services/provisioning/index.js';

const render = (src: string, view: Record<string, unknown>, esc = escapeXml): string => renderTemplate(compileTemplate(src, 't'), view as never, esc);

test('variables are escaped for the file format; triple braces are raw; dotted names reach into objects', () => {
  assert.equal(render('<a>{{x}}</a>', { x: 'A & <B> "c"' }), '<a>A &amp; &lt;B&gt; &quot;c&quot;</a>');
  assert.equal(render('{{{x}}}', { x: '<raw>' }), '<raw>');
  assert.equal(render('{{a.b.c}}', { a: { b: { c: 5 } } }), '5');
  assert.equal(render('k = {{x}}\n', { x: 'one\nevil = 1' }, escapeLine), 'k = one evil = 1\n', 'a value cannot start a new key');
});

test('sections repeat over lists, show on truthy values; inverted ones on falsy; standalone tags leave no blank line', () => {
  const src = 'a\n{{#keys}}\nk{{n}}={{v}}\n{{/keys}}\n{{^keys}}\nnone\n{{/keys}}\nz\n';
  assert.equal(render(src, { keys: [{ n: 1, v: 'x' }, { n: 2, v: 'y' }] }), 'a\nk1=x\nk2=y\nz\n');
  assert.equal(render(src, { keys: [] }), 'a\nnone\nz\n');
  assert.equal(render('{{#on}}yes {{name}}{{/on}}', { on: true, name: 'n' }), 'yes n');
  assert.equal(render('{{#item}}{{name}}/{{top}}{{/item}}', { item: { name: 'in' }, top: 'out' }), 'in/out', 'outer names stay visible');
});

test('unbalanced sections are errors naming the template and the tag', () => {
  assert.throws(() => compileTemplate('{{#a}}x', 'v/f'), /template v\/f: \{\{#a\}\} is never closed/);
  assert.throws(() => compileTemplate('{{/a}}', 'v/f'), /closes nothing/);
  assert.throws(() => compileTemplate('{{#a}}{{/b}}', 'v/f'), /\{\{\/b\}\} closes \{\{#a\}\}/);
});
