import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { siteParts } from '../app/site.js';
import { boot } from '../core/boot.js';
import { ConfigError } from '../core/config.js';
import { runAppliance } from './kit/index.js';

const dir = mkdtempSync(join(tmpdir(), 'chargekeeper-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
async function problemsOf(yaml: string, env: Record<string, string> = {}): Promise<string[]> {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, yaml);
  try {
    const app = await boot(siteParts, { env: { CHARGEKEEPER_CONFIG: file, CHARGEKEEPER_DATA_DIR: join(dir, 'data'), CHARGEKEEPER_PORT: '0', ...env }, logSink: () => undefined });
    await app.stop();
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe('config errors', () => {
  it('exits 2 with one message per problem naming key, expectation and value, and starts nothing', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'ocpp:\n  unknownChargers: maybe\n  heartbeatInterval: often\nplugins:\n  teleport: {}\n');
    const proc = runAppliance({ CHARGEKEEPER_CONFIG: file, CHARGEKEEPER_DATA_DIR: join(dir, 'never'), CHARGEKEEPER_PORT: '0' });
    expect(await proc.exited).toBe(2);
    const out = proc.output();
    expect(out).toContain('ocpp.unknownChargers: expected one of accept, pending, reject, got "maybe"');
    expect(out).toContain('ocpp.heartbeatInterval: expected a duration like 90s, 15m or 2h, got "often"');
    expect(out).toContain('plugins.teleport: unknown plugin');
    expect(out).not.toContain('listening');
    const { existsSync } = await import('node:fs');
    expect(existsSync(join(dir, 'never'))).toBe(false); // no database was created
  });

  it('names an unknown plugin and lists the known ones', async () => {
    expect(await problemsOf('plugins:\n  teleport: {}\n')).toEqual([expect.stringMatching(/^plugins\.teleport: unknown plugin; known plugins: .*users/)]);
  });

  it('names an unknown key, a wrong type and a missing required key', async () => {
    const problems = await problemsOf('site:\n  name: X\n  colour: red\nhttp:\n  port: eighty\n  tls:\n    cert: a.pem\n');
    expect(problems).toEqual(expect.arrayContaining([
      'site.colour: unknown key; expected one of name, timezone',
      'http.port: expected an integer >= 0 and <= 65535, got "eighty"',
      'http.tls.key: is required (a string)',
    ]));
  });

  it('names a missing environment variable used as a secret', async () => {
    expect(await problemsOf('site:\n  name: ${CK_TEST_UNSET_VAR}\n')).toEqual(['site.name: environment variable CK_TEST_UNSET_VAR is not set']);
    expect(await problemsOf('site:\n  name: ${CK_TEST_SITE}\n', { CK_TEST_SITE: 'From Env' })).toEqual([]);
  });

  it('names a bad time zone, a bad port override and broken YAML', async () => {
    expect(await problemsOf('site:\n  timezone: Mars/Olympus\n')).toEqual(['site.timezone: expected an IANA time zone like Europe/Berlin, got "Mars/Olympus"']);
    expect(await problemsOf('{}\n', { CHARGEKEEPER_PORT: 'x' })).toEqual(['CHARGEKEEPER_PORT: expected a port number 0-65535, got "x"']);
    expect((await problemsOf('site: [unclosed\n'))[0]).toMatch(/^\(yaml\): /);
  });

  it('validates a plugin section with the plugin\'s own schema', async () => {
    expect(await problemsOf('plugins:\n  blueprint:\n    greeting: ""\n')).toEqual(['plugins.blueprint.greeting: expected a non-empty string, got ""']);
  });
});
