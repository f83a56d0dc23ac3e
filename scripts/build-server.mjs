// Transpiles the server's TypeScript (core/, plugins/, hardware-adapters/) to plain
// JavaScript in dist/, file by file with esbuild, so `npm start` loads no TypeScript
// tooling at run time (startup under 2 s). Only when a source is newer than the last build.
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { transform } from 'esbuild';
import { readFile, writeFile } from 'node:fs/promises';

const repo = resolve(import.meta.dirname, '..');
const out = join(repo, 'dist');
const stamp = join(out, '.built');
const force = process.argv.includes('--force');
const roots = ['app', 'core', 'plugins', 'hardware-adapters'];
// Data files read at run time, copied beside the code that reads them.
const assets = /\.(ya?ml|json)$/;

function walk(dir, files = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'ui' && entry.name !== 'node_modules') walk(path, files);
    } else files.push(path);
  }
  return files;
}

const files = roots.flatMap((r) => walk(join(repo, r)));
const sources = files.filter((f) => (f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts')) || assets.test(f));
const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs), statSync(join(repo, 'package.json')).mtimeMs);
let builtAt = 0;
try { builtAt = statSync(stamp).mtimeMs; } catch { /* never built */ }

if (!force && builtAt >= newest) {
  console.log('server: dist/ is up to date');
} else {
  const t0 = performance.now();
  rmSync(out, { recursive: true, force: true });
  await Promise.all(sources.map(async (file) => {
    const target = join(out, relative(repo, file));
    mkdirSync(dirname(target), { recursive: true });
    if (!file.endsWith('.ts')) {
      copyFileSync(file, target);
      return;
    }
    const { code } = await transform(await readFile(file, 'utf8'), {
      loader: 'ts', format: 'esm', target: 'node20', sourcemap: 'inline', sourcefile: relative(repo, file),
    });
    await writeFile(target.replace(/\.ts$/, '.js'), code);
  }));
  writeFileSync(stamp, new Date().toISOString());
  console.log(`server: built dist/ from ${sources.length} files in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
