import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createUser, type TestApp, useApp } from '../kit/index.js';

const apps = useApp();

const WEBHOOK = 'http://127.0.0.1:9/hooks/s3cr3t-path';
const site = {
  plugins: {
    blueprint: { greeting: 'hello' },
    alerts: { channels: [{ name: 'phone', type: 'webhook', url: WEBHOOK }] },
  },
};

/** Puts an installer's comment into the file the app reads, as one would over SSH. */
function annotate(t: TestApp): string {
  const file = join(t.dataDir, 'site.yaml');
  writeFileSync(file, `# Garage B, installed by Kim — call before changing the fuse\n${readFileSync(file, 'utf8')}`);
  return file;
}

type Section = { path: string; enabled: boolean; applies: string; value: Record<string, unknown> | null; schema: unknown };

describe('installer console: the site config from the API', () => {
  it('lists core, plugin and adapter sections with their schema, secrets masked, disabled plugins included', async () => {
    const t = await apps.start({ config: site });
    const res = await t.api('GET', '/settings');
    expect(res.status).toBe(200);
    const byPath = new Map((res.body.sections as Section[]).map((s) => [s.path, s]));
    expect(byPath.get('ocpp')).toMatchObject({ enabled: true, applies: 'restart' });
    expect(byPath.get('plugins.blueprint')).toMatchObject({ enabled: true, applies: 'live', value: { greeting: 'hello' } });
    expect(byPath.get('plugins.billing')).toMatchObject({ enabled: false, value: null });
    expect(byPath.get('meters')).toMatchObject({ enabled: false });
    expect(JSON.stringify(res.body)).not.toContain('s3cr3t-path');
    expect(res.body.version).toBeGreaterThan(0);
  });

  it('checks a bad value like startup does, names the key, and writes nothing', async () => {
    const t = await apps.start({ config: site });
    const file = annotate(t);
    const before = readFileSync(file, 'utf8');
    const check = await t.api('POST', '/settings/check', { body: { section: 'plugins.blueprint', value: { greeting: '' } } });
    expect(check.status).toBe(200);
    expect(check.body.problems).toEqual([expect.objectContaining({ path: 'plugins.blueprint.greeting' })]);
    const put = await t.api('PUT', '/settings/sections/plugins.blueprint', { body: { value: { greeting: '', extra: 1 } } });
    expect(put.status).toBe(400);
    expect(put.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['plugins.blueprint.greeting']));
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect((await t.api('GET', '/blueprint/hello')).body.message).toMatch(/^hello /);
  });

  it('applies a plugin change without a restart, keeps the file\'s comments, keeps the version, and rolls back', async () => {
    const t = await apps.start({ config: site });
    const file = annotate(t);
    const check = await t.api('POST', '/settings/check', { body: { section: 'plugins.blueprint', value: { greeting: 'moin' } } });
    expect(check.body).toMatchObject({ problems: [], applies: 'live' });
    expect(check.body.diff).toEqual(expect.arrayContaining([{ op: '-', text: '    greeting: hello' }, { op: '+', text: '    greeting: moin' }]));
    const bootId = (await t.api('GET', '/blueprint/hello')).status;
    expect(bootId).toBe(200);

    const put = await t.api('PUT', '/settings/sections/plugins.blueprint', { body: { value: { greeting: 'moin' } } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({ applies: 'live', started: ['blueprint'] });
    expect((await t.api('GET', '/blueprint/hello')).body.message).toMatch(/^moin /);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# Garage B, installed by Kim');
    expect(text).toContain('greeting: moin');

    const versions = await t.api('GET', '/settings/versions');
    expect(versions.body[0]).toMatchObject({ id: put.body.version, actor: 'admin', summary: 'plugins.blueprint changed' });
    const first = versions.body[versions.body.length - 1];
    const detail = await t.api('GET', `/settings/versions/${put.body.version}`);
    expect(detail.body.diff).toEqual(expect.arrayContaining([{ op: '+', text: '    greeting: moin' }]));

    // The hand-annotated file became a version of its own before the change: rolling back to it restores the greeting.
    const handEdited = versions.body.find((v: { actor: string; id: number }) => v.actor === 'file' && v.id > first.id) ?? first;
    const back = await t.api('POST', `/settings/versions/${handEdited.id}/rollback`);
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect((await t.api('GET', '/blueprint/hello')).body.message).toMatch(/^hello /);
    expect(readFileSync(file, 'utf8')).toContain('greeting: hello');
    const audit = await t.api('GET', '/audit?action=settings.applied');
    expect(audit.body).toHaveLength(2);
  });

  it('enables a plugin live, answers 503 once disabled, and keeps a masked secret as it was', async () => {
    const t = await apps.start({ config: site });
    const file = join(t.dataDir, 'site.yaml');
    expect((await t.api('GET', '/tariffs')).status).toBe(404);
    const early = await t.api('PUT', '/settings/sections/plugins.billing', { body: { value: {} } });
    expect(early.body.errors).toEqual([{ field: 'plugins.billing', message: 'Plugin billing needs users, which is not enabled' }]);
    expect((await t.api('PUT', '/settings/sections/plugins.users', { body: { value: {} } })).status).toBe(200);
    const on = await t.api('PUT', '/settings/sections/plugins.billing', { body: { value: {} } });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    expect((await t.api('GET', '/tariffs')).status).toBe(200);
    const off = await t.api('PUT', '/settings/sections/plugins.billing', { body: { value: null } });
    expect(off.body).toMatchObject({ removed: ['billing'] });
    expect((await t.api('GET', '/tariffs')).status).toBe(503);

    const alerts = ((await t.api('GET', '/settings')).body.sections as Section[]).find((s) => s.path === 'plugins.alerts')!;
    const channels = alerts.value!.channels as Array<Record<string, unknown>>;
    expect(channels[0]!.url).not.toBe(WEBHOOK);
    const edited = { ...alerts.value, channels: [{ ...channels[0], name: 'pager' }] };
    const put = await t.api('PUT', '/settings/sections/plugins.alerts', { body: { value: edited } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(WEBHOOK);
    expect(text).toContain('name: pager');
    expect(JSON.stringify(put.body)).not.toContain('s3cr3t-path');
  });

  it('writes a core change for the next restart and says so; refuses a stale base version and other roles', async () => {
    const t = await apps.start({ config: { plugins: { ...site.plugins, users: {} } } });
    const file = join(t.dataDir, 'site.yaml');
    const { version } = (await t.api('GET', '/settings')).body;
    const ocpp = ((await t.api('GET', '/settings')).body.sections as Section[]).find((s) => s.path === 'ocpp')!;
    const put = await t.api('PUT', '/settings/sections/ocpp', { body: { value: { ...ocpp.value, heartbeatInterval: '120s' }, baseVersion: version } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({ applies: 'restart', restartPending: true });
    expect((await t.api('GET', '/settings')).body).toMatchObject({ restartPending: true, canRestart: false });
    expect(readFileSync(file, 'utf8')).toContain('heartbeatInterval: 120s');
    expect((await t.api('POST', '/settings/restart')).status).toBe(409);

    const stale = await t.api('PUT', '/settings/sections/plugins.blueprint', { body: { value: { greeting: 'hej' }, baseVersion: version } });
    expect(stale.status).toBe(409);
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n# edited over SSH\n`);
    const versions = await t.api('GET', '/settings/versions');
    expect(versions.body[0]).toMatchObject({ actor: 'file', summary: 'changed in the config file' });

    await createUser(t, 'tech', 'technician', 'tech-password-1');
    const tech = await t.login('tech', 'tech-password-1');
    expect((await t.api('GET', '/settings', { token: tech })).status).toBe(403);
    expect((await t.api('PUT', '/settings/sections/plugins.blueprint', { token: tech, body: { value: { greeting: 'x' } } })).status).toBe(403);
    expect((await t.api('PUT', '/settings/sections/plugins.nope', { body: { value: {} } })).status).toBe(404);
    expect((await t.api('PUT', '/settings/sections/..%2Fetc', { body: { value: {} } })).status).toBe(400);
    // A value nested far past any config is refused before it is walked, naming the field.
    let deep: unknown = 'x';
    for (let i = 0; i < 1000; i++) deep = [deep];
    const nested = await t.api('PUT', '/settings/sections/plugins.blueprint', { body: { value: deep } });
    expect(nested.status).toBe(400);
    expect(nested.body.errors[0]).toMatchObject({ field: 'value', message: 'expected at most 24 levels of nesting' });
    expect((await t.api('POST', '/settings/import', { body: { format: 'chargekeeper-site', deep } })).status).toBe(400);
  });
});
