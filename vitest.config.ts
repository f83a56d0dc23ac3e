import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Plugin UI files import the UI library as $lib/… (see ui/vite.config.ts); tests that import them resolve it the same way.
  resolve: { alias: { $lib: resolve(import.meta.dirname, 'ui/src/lib') } },
  test: {
    include: ['core/**/*.test.ts', 'plugins/**/*.test.ts', 'hardware-adapters/**/*.test.ts', 'tests/**/*.test.ts', 'ui/src/**/*.test.ts'],
    exclude: ['node_modules', 'dist', 'ui/dist/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
