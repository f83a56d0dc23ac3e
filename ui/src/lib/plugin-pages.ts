// Plugin pages: <plugin dir>/ui/<Component>.svelte, listed with their module path by GET /api/plugins.
import type { Component } from 'svelte';
import type { PluginInfo, PluginPage } from './api.ts';

type Loader = () => Promise<{ default: Component }>;

// Relative to this file: <repo>/plugins/*/ui/ and <repo>/hardware-adapters/*/ui/. Each page becomes its own lazy chunk.
const modules = import.meta.glob<{ default: Component }>([
  '../../../plugins/*/ui/*.svelte',
  '../../../hardware-adapters/*/ui/*.svelte',
]);

// Keyed by the repo-relative path that GET /api/plugins reports as a page's `module`.
const byModule = new Map<string, Loader>();
for (const [file, load] of Object.entries(modules)) byModule.set(file.replace(/^(\.\.\/)+/, ''), load);

export interface NavPage extends PluginPage {
  plugin: string;
  /** Route path without leading slash, as used in #/p/<path>. */
  route: string;
}

export function loaderFor(page: PluginPage): Loader | undefined {
  return byModule.get(page.module);
}

/** Pages of running plugins that the given filter lets through. */
export function pagesOf(plugins: PluginInfo[], visible: (p: PluginPage) => boolean): NavPage[] {
  const out: NavPage[] = [];
  for (const pl of plugins) {
    if (pl.state !== 'running') continue;
    for (const pg of pl.pages ?? []) {
      if (visible(pg)) out.push({ ...pg, plugin: pl.name, route: pg.path.replace(/^\/+/, '') });
    }
  }
  return out;
}
