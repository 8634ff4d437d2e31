// Bundles the Lit console (web-ui/src) with esbuild into web-ui/dist: hashed ES modules split per page, index.html
// pointing at the entry, every text file also pre-compressed (.gz) for koa to send as is.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = path.join(ROOT, 'web-ui/src');
const OUT = path.join(ROOT, 'web-ui/dist');

async function main(): Promise<void> {
  fs.rmSync(OUT, { recursive: true, force: true });
  const result = await build({
    entryPoints: [path.join(SRC, 'main.ts')],
    bundle: true,
    splitting: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    outdir: path.join(OUT, 'assets'),
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint?.endsWith('main.ts'));
  if (!entry) throw new Error('build-web: no entry output');
  const entryUrl = `/assets/${path.basename(entry[0])}`;
  const html = fs.readFileSync(path.join(ROOT, 'web-ui/index.html'), 'utf8').replace('%ENTRY%', entryUrl);
  fs.writeFileSync(path.join(OUT, 'index.html'), html);
  fs.copyFileSync(path.join(ROOT, 'web-ui/favicon.svg'), path.join(OUT, 'favicon.svg'));
  let total = 0;
  const sizes: Record<string, number> = {};
  for (const dir of [OUT, path.join(OUT, 'assets')]) {
    for (const f of fs.readdirSync(dir)) {
      const file = path.join(dir, f);
      if (!/\.(js|css|html|svg)$/.test(f)) continue;
      const gz = zlib.gzipSync(fs.readFileSync(file), { level: 9 });
      fs.writeFileSync(`${file}.gz`, gz);
      sizes[path.relative(OUT, file)] = gz.length;
      total += gz.length;
    }
  }
  // What the first page loads: the entry and the chunks it imports statically.
  const firstPage = new Set<string>([entry[0]]);
  for (const out of firstPage) for (const imp of result.metafile.outputs[out]?.imports ?? []) if (imp.kind === 'import-statement') firstPage.add(imp.path);
  const firstBytes = [...firstPage].reduce((n, o) => n + (sizes[path.relative(OUT, path.join(ROOT, o))] ?? 0), 0);
  fs.writeFileSync(path.join(OUT, 'build.json'), JSON.stringify({ entry: entryUrl, firstPageGzipBytes: firstBytes, totalGzipBytes: total, files: sizes }, null, 1));
  process.stderr.write(`build-web: console in web-ui/dist, first page ${(firstBytes / 1024).toFixed(1)} KB gzipped (${(total / 1024).toFixed(1)} KB in all)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`build-web: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
