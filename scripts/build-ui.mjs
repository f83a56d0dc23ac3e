// Builds ui/ into ui/dist/ with Vite, only when a source is newer than ui/dist/index.html.
// Sources: ui/src/**, ui/public/**, ui/index.html, ui/vite.config.ts, ui/svelte.config.js, plugins/*/ui/**, hardware-adapters/*/ui/**.
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');
const ui = join(repo, 'ui');
const out = join(ui, 'dist', 'index.html');
const force = process.argv.includes('--force');

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

// Newest file under path, with the file that has it.
function newest(path, best = { ms: 0, file: '' }) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return best;
  }
  if (st.isDirectory()) {
    for (const name of readdirSync(path)) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      newest(join(path, name), best);
    }
  } else if (st.mtimeMs > best.ms) {
    best.ms = st.mtimeMs;
    best.file = path;
  }
  return best;
}

const sources = [join(ui, 'src'), join(ui, 'public'), join(ui, 'index.html'), join(ui, 'vite.config.ts'), join(ui, 'svelte.config.js')];
for (const dir of ['plugins', 'hardware-adapters']) {
  try {
    for (const name of readdirSync(join(repo, dir))) sources.push(join(repo, dir, name, 'ui'));
  } catch {
    // no such folder: nothing to add
  }
}

const best = { ms: 0, file: '' };
for (const s of sources) newest(s, best);
const builtAt = mtime(out);

if (!force && builtAt && builtAt >= best.ms) {
  console.log(`ui: up to date (ui/dist built ${new Date(builtAt).toISOString()})`);
} else {
  const started = Date.now();
  const why = builtAt ? `${relative(repo, best.file)} changed` : 'ui/dist missing';
  const { build } = await import('vite');
  try {
    await build({ configFile: join(ui, 'vite.config.ts'), logLevel: 'warn' });
  } catch (err) {
    console.error(`ui: build failed (${why}): ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  console.log(`ui: built ui/dist in ${((Date.now() - started) / 1000).toFixed(1)} s (${why})`);
}
