// `npm run config:schema`: writes config/config.schema.json, the JSON Schema of a whole site config
// (core sections, every plugin under `plugins:`, hardware adapters), generated from the same
// TypeBox schemas that validate it at startup. Editors with a YAML language server use it to
// complete keys and flag typos while an installer writes the file.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CoreConfigSchema } from '../core/config.js';
import { adapters } from '../hardware-adapters/index.js';
import { registry } from '../plugins/index.js';

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema> };

/** Plain JSON: TypeBox keeps its bookkeeping under symbol keys, which JSON leaves out. */
const plain = (schema: unknown): JsonSchema => JSON.parse(JSON.stringify(schema)) as JsonSchema;

/** A key with a default may be left out of the file: startup fills it in. */
function optionalDefaults(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(optionalDefaults);
  if (!node || typeof node !== 'object') return;
  const schema = node as JsonSchema;
  if (schema.properties && Array.isArray(schema.required)) {
    schema.required = (schema.required as string[]).filter((key) => schema.properties![key]?.default === undefined);
    if ((schema.required as string[]).length === 0) delete schema.required;
  }
  Object.values(schema).forEach(optionalDefaults);
}

export function siteConfigSchema(): JsonSchema {
  const site = plain(CoreConfigSchema);
  site.properties!.plugins = {
    type: 'object',
    description: 'Plugins enabled on this site, each by its key; `{}` enables one with its defaults',
    default: {},
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(registry).map(([key, entry]) => [key, {
      ...plain(entry.plugin.manifest.config), description: entry.plugin.manifest.summary,
    }])),
  };
  for (const [key, entry] of Object.entries(adapters)) {
    site.properties![key] = { ...plain(entry.plugin.manifest.config), description: entry.plugin.manifest.summary };
  }
  optionalDefaults(site);
  // The time zone defaults to this machine's own; the file must not depend on where it was generated.
  delete site.properties!.site!.properties!.timezone!.default;
  return { $schema: 'http://json-schema.org/draft-07/schema#', title: 'ChargeKeeper site configuration', ...site };
}

export const schemaFile = resolve(import.meta.dirname, '..', 'config', 'config.schema.json');
export const schemaText = (): string => `${JSON.stringify(siteConfigSchema(), null, 2)}\n`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  writeFileSync(schemaFile, schemaText());
  process.stdout.write(`wrote ${join('config', 'config.schema.json')}\n`);
}
