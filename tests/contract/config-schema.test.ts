import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { schemaFile, schemaText, siteConfigSchema } from '../../scripts/config-schema.js';

const root = resolve(import.meta.dirname, '../..');
// Formats and the x-kind hint are checked at startup by TypeBox; editors only need the shape.
const validate = new Ajv({ strict: false, validateFormats: false, allErrors: true }).compile(siteConfigSchema());
const siteConfigs = ['config/default.yaml', ...readdirSync(join(root, 'config', 'examples')).map((f) => `config/examples/${f}`)];

describe('config/config.schema.json', () => {
  it('is what `npm run config:schema` generates from the schemas in the code', () => {
    expect(readFileSync(schemaFile, 'utf8'), 'config/config.schema.json is stale: run npm run config:schema').toBe(schemaText());
  });

  it.each(siteConfigs)('accepts %s', (file) => {
    const ok = validate(parse(readFileSync(join(root, file), 'utf8')));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('flags a misspelt key and a wrong value, as an editor would while the file is written', () => {
    expect(validate({ plugins: { users: {} }, ocpp: { unknownChargers: 'maybe', heartbeatIntervall: '60s' } })).toBe(false);
    const where = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`);
    expect(where).toContain('/ocpp additionalProperties');
    expect(where.some((w) => w.startsWith('/ocpp/unknownChargers'))).toBe(true);
    expect(validate({ plugins: { chargers: {} } })).toBe(false);
  });
});
