import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const root = import.meta.dirname;
const repo = resolve(root, '..');

// Compiler options (runes: true) live in svelte.config.js, which svelte-check reads too.
export default defineConfig({
  root,
  base: '/',
  plugins: [svelte({ configFile: resolve(root, 'svelte.config.js') })],
  // Plugin pages import the UI library as $lib/…; the same alias is in ui/tsconfig.json, tsconfig.json and vitest.config.ts.
  resolve: { alias: { $lib: resolve(root, 'src/lib') } },
  build: {
    outDir: resolve(root, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 600,
  },
  // Plugin pages live in <repo>/plugins/*/ui/, outside this root.
  server: {
    fs: { allow: [repo] },
    proxy: { '/api': { target: process.env.CHARGEKEEPER_API ?? 'http://127.0.0.1:8080', changeOrigin: false } },
  },
  logLevel: 'warn',
});
