// Plugin pages: plugins/<name>/ui/<Component>.svelte, listed by GET /api/plugins.
import type { Component } from 'svelte';
import type { PluginInfo, PluginPage } from './api.ts';

type Loader = () => Promise<{ default: Component }>;

// Relative to this file: <repo>/plugins/*/ui/*.svelte. Each page becomes its own lazy chunk.
const modules = import.meta.glob<{ default: Component }>('../../../plugins/*/ui/*.svelte');

const byKey = new Map<string, Loader>();
for (const [file, load] of Object.entries(modules)) {
  const m = /plugins\/([^/]+)\/ui\/([^/]+)\.svelte$/.exec(file);
  if (m) byKey.set(`${bare(m[1]!)}/${m[2]!}`, load);
}

// The folder of the blueprint is "_blueprint"; its plugin may call itself either way.
function bare(name: string): string {
  return name.replace(/^_+/, '');
}

export interface NavPage extends PluginPage {
  plugin: string;
  /** Route path without leading slash, as used in #/p/<path>. */
  route: string;
}

export function loaderFor(plugin: string, component: string): Loader | undefined {
  return byKey.get(`${bare(plugin)}/${component.replace(/\.svelte$/, '')}`);
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
