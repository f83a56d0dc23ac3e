import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { siteParts } from '../../app/site.js';
import { checkSiteConfig } from '../../core/boot.js';
import type { RegistryEntry } from '../../core/host.js';
import { adapters } from '../../hardware-adapters/index.js';
import { registry } from '../../plugins/index.js';
import { baseConfig, type TestApp, useApp, writeConfig } from '../kit/index.js';

const root = resolve(import.meta.dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'chargekeeper-contract-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const all: Array<[string, RegistryEntry, 'plugins' | 'top']> = [
  ...Object.entries(registry).map(([k, e]) => [k, e, 'plugins'] as [string, RegistryEntry, 'plugins']),
  ...Object.entries(adapters).map(([k, e]) => [k, e, 'top'] as [string, RegistryEntry, 'top']),
];

/** The YAML blocks of a README that configure this plugin (under plugins:, or its top-level key). */
function examples(key: string, entry: RegistryEntry, where: 'plugins' | 'top'): unknown[] {
  const text = readFileSync(join(root, entry.dir, 'README.md'), 'utf8');
  const out: unknown[] = [];
  for (const m of text.matchAll(/```ya?ml\n([\s\S]*?)```/g)) {
    let doc: Record<string, unknown>;
    try { doc = parse(m[1]!) as Record<string, unknown>; } catch { continue; }
    const section = where === 'plugins' ? (doc?.plugins as Record<string, unknown> | undefined)?.[key] : doc?.[key];
    if (section !== undefined) out.push(section ?? {});
  }
  return out;
}

/** A site config enabling the plugin with the given section and, with defaults, whatever it needs. */
function siteWith(key: string, entry: RegistryEntry, where: 'plugins' | 'top', section: unknown): Record<string, unknown> {
  const config = baseConfig();
  const plugins: Record<string, unknown> = {};
  for (const need of entry.plugin.manifest.needs ?? []) plugins[need] = need === 'billing' ? { currency: 'EUR' } : {};
  if (where === 'plugins') plugins[key] = section;
  else config[key] = section;
  config.plugins = plugins;
  return config;
}

const placeholders = (yaml: string): Record<string, string> =>
  Object.fromEntries([...yaml.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => [m[1]!, 'example-secret']));

/** True when every host or URL in a config is on this machine, so booting it sends nothing elsewhere. */
function loopbackOnly(value: unknown): boolean {
  const text = JSON.stringify(value);
  const hosts = [...text.matchAll(/"host":"([^"]+)"/g)].map((m) => m[1]!)
    .concat([...text.matchAll(/[a-z]+:\/\/([^/:"]+)/g)].map((m) => m[1]!));
  return hosts.every((h) => h === '127.0.0.1' || h === 'localhost' || h === '::1');
}

let t: TestApp | undefined;
const apps = useApp();

describe('plugin contract', () => {
  it.each(all)('%s has a README whose config examples are valid', (key, entry, where) => {
    expect(existsSync(join(root, entry.dir, 'README.md')), `${entry.dir}/README.md`).toBe(true);
    const found = examples(key, entry, where);
    expect(found.length, `a yaml example configuring ${key} in ${entry.dir}/README.md`).toBeGreaterThan(0);
    for (const section of found) {
      const file = writeConfig(scratch, siteWith(key, entry, where, section));
      const env = { CHARGEKEEPER_CONFIG: file, ...placeholders(readFileSync(file, 'utf8')) };
      const { problems } = checkSiteConfig(env, siteParts, { logSink: () => undefined });
      expect(problems, JSON.stringify(section)).toEqual([]);
    }
  });

  it.each(all.filter(([, e]) => e.dir.startsWith('plugins/')))('%s boots with its README example (or its defaults) and stops cleanly', async (key, entry, where) => {
    const example = examples(key, entry, where).find(loopbackOnly);
    const config = siteWith(key, entry, where, example ?? {});
    t = await apps.start({ config, env: placeholders(JSON.stringify(config)) });
    const plugins = (await t.api('GET', '/plugins')).body as Array<{ name: string; state: string; error: string | null }>;
    expect(plugins.find((p) => p.name === key)).toMatchObject({ state: 'running', error: null });
    await t.stop();
    t = undefined;
  });
});

describe('site config examples', () => {
  const dir = join(root, 'config', 'examples');
  const files = ['config/default.yaml', ...readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => `config/examples/${f}`)];
  it.each(files)('%s is valid', (file) => {
    const text = readFileSync(join(root, file), 'utf8');
    const { problems } = checkSiteConfig({ CHARGEKEEPER_CONFIG: join(root, file), ...placeholders(text) }, siteParts, { logSink: () => undefined });
    expect(problems).toEqual([]);
  });
});
