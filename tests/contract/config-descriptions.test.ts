import { describe, expect, it } from 'vitest';
import { siteConfigSchema } from '../../scripts/config-schema.js';

type Node = Record<string, unknown>;

/**
 * Objects that take keys the schema does not list, and why. Every other object refuses unknown
 * keys, so a misspelt key is reported instead of silently ignored.
 */
export const OPEN_OBJECTS: Record<string, string> = {
  'storage.connection': 'passed through to the database driver (knex), whose options are its own',
  'plugins.alerts.groups': 'group names are chosen by the site',
  'plugins.alerts.people': 'person names are chosen by the site',
  'plugins.fleet.groups': 'group names are chosen by the site',
  'plugins.alerts.channels[]': 'each entry is checked against its channel type\'s own schema once the type is known',
};

/** Every property without a description and every object that is open but not on the list, by key path. */
function walk(node: unknown, path: string, out: { undescribed: string[]; open: string[]; openSeen: Set<string> }): void {
  if (!node || typeof node !== 'object') return;
  const s = node as Node;
  const isObject = s.type === 'object' || 'properties' in s || 'patternProperties' in s;
  if (isObject) {
    if (s.additionalProperties !== false) {
      if (path in OPEN_OBJECTS) out.openSeen.add(path);
      else out.open.push(path || '(root)');
    }
    for (const [key, child] of Object.entries((s.properties ?? {}) as Record<string, Node>)) {
      const at = path ? `${path}.${key}` : key;
      if (typeof child.description !== 'string' || !child.description.trim()) out.undescribed.push(at);
      walk(child, at, out);
    }
    for (const child of Object.values((s.patternProperties ?? {}) as Record<string, Node>)) walk(child, `${path}.*`, out);
    if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${path}.*`, out);
  }
  if (s.items) walk(s.items, `${path}[]`, out);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    if (Array.isArray(s[key])) for (const branch of s[key] as Node[]) walk(branch, path, out);
  }
}

describe('config/config.schema.json for settings forms', () => {
  const out = { undescribed: [] as string[], open: [] as string[], openSeen: new Set<string>() };
  walk(siteConfigSchema(), '', out);

  it('describes every key', () => {
    expect(out.undescribed, 'keys without a description').toEqual([]);
  });

  it('refuses unknown keys except in the listed open objects', () => {
    expect(out.open, 'objects without additionalProperties: false (add Strict, or list them with the reason)').toEqual([]);
  });

  it('lists only open objects that exist', () => {
    expect(Object.keys(OPEN_OBJECTS).filter((p) => !out.openSeen.has(p)), 'stale entries in OPEN_OBJECTS').toEqual([]);
  });
});
