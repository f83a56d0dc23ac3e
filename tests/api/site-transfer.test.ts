import { describe, expect, it } from 'vitest';
import { createUser, useApp } from '../kit/index.js';

const apps = useApp();

const SECRET_URL = 'http://127.0.0.1:9/hooks/s3cr3t-path';

describe('installer console: one file to set up the next site like the last', () => {
  it('exports config, accounts and tariffs without secrets, and imports what the next site lacks', async () => {
    const a = await apps.start({
      config: {
        site: { name: 'Garage A', timezone: 'Europe/Berlin' },
        ocpp: { unknownChargers: 'pending', heartbeatInterval: '120s', callTimeout: '5s' },
        plugins: {
          users: {}, billing: { currency: 'EUR' }, blueprint: { greeting: 'moin' },
          alerts: { channels: [{ name: 'phone', type: 'webhook', url: SECRET_URL }] },
        },
      },
    });
    const kim = await createUser(a, 'kim', 'driver', 'kims-password-1');
    expect((await a.api('POST', '/tariffs', { body: { name: 'Public', pricePerKwh: 0.39, isDefault: true } })).status).toBe(201);
    expect((await a.api('POST', '/tariffs', { body: { name: 'Members', pricePerKwh: 0.25, userIds: [kim.id], timeOfUse: [{ from: '22:00', to: '06:00', pricePerKwh: 0.19 }] } })).status).toBe(201);

    const exported = await a.api('GET', '/settings/export');
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toMatch(/attachment; filename="chargekeeper-site-Garage-A-\d{4}-\d{2}-\d{2}\.json"/);
    const file = exported.body;
    const text = JSON.stringify(file);
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toMatch(/password|hash/i);
    expect(file.accounts).toEqual(expect.arrayContaining([{ username: 'kim', name: 'kim', email: null, role: 'driver' }]));
    expect(file.parts.tariffs).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Members', usernames: ['kim'] })]));

    const b = await apps.start({ config: { site: { name: 'Garage B', timezone: 'Europe/Berlin' }, plugins: { users: {} } } });
    const report = await b.api('POST', '/settings/import', { body: file });
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    const { config, accounts, parts } = report.body;
    expect(config.imported).toEqual(expect.arrayContaining(['site', 'ocpp', 'plugins.billing', 'plugins.blueprint']));
    expect(config.imported).not.toContain('http');
    // The webhook URL was a secret: the channel cannot come over without it, and the report says where.
    expect(config.skipped).toEqual([{ section: 'plugins.alerts', problems: [expect.stringContaining('plugins.alerts.channels[0]')] }]);
    expect(accounts).toMatchObject({ added: 1, skipped: 1 });
    expect(parts.tariffs).toMatchObject({ added: 2, skipped: 0, problems: [] });

    // Billing was enabled by the import without a restart, with the tariffs, kim's one for kim here.
    const kimHere = (await b.api('GET', '/users')).body.find((u: { username: string }) => u.username === 'kim');
    const tariffs = (await b.api('GET', '/tariffs')).body as Array<{ name: string; userIds: number[]; isDefault: boolean; timeOfUse: unknown[] }>;
    expect(tariffs.map((t) => t.name).sort()).toEqual(['Members', 'Public']);
    expect(tariffs.find((t) => t.name === 'Members')).toMatchObject({ userIds: [kimHere.id], isDefault: false, timeOfUse: [expect.objectContaining({ from: '22:00' })] });
    expect(tariffs.find((t) => t.name === 'Public')).toMatchObject({ isDefault: true });
    expect((await b.api('GET', '/blueprint/hello')).body.message).toMatch(/^moin /);
    // The site's name and the OCPP settings are core settings: written, taken at the next restart.
    expect((await b.api('GET', '/settings')).body.restartPending).toBe(true);
    expect((await b.api('GET', '/settings')).body.sections.find((s: { path: string }) => s.path === 'site').value.name).toBe('Garage A');
    // No password came over: kim sets one at this site.
    expect((await b.api('POST', '/auth/login', { token: null, body: { username: 'kim', password: 'kims-password-1' } })).status).toBe(401);

    // Importing again takes nothing twice.
    const again = (await b.api('POST', '/settings/import', { body: file })).body;
    expect(again.accounts).toMatchObject({ added: 0 });
    expect(again.parts.tariffs).toMatchObject({ added: 0, skipped: 2 });
    expect((await b.api('GET', '/tariffs')).body).toHaveLength(2);
    const audit = (await b.api('GET', '/audit?action=settings.imported')).body;
    expect(audit).toHaveLength(2);
  });

  it('refuses a file that is not an export, naming the field, and a hostile tariff without taking the rest', async () => {
    const t = await apps.start({ config: { plugins: { users: {}, billing: {} } } });
    const bad = await t.api('POST', '/settings/import', { body: { format: 'something-else' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('format');
    const file = (await t.api('GET', '/settings/export')).body;
    file.parts.tariffs = [{ name: 'x'.repeat(5000), pricePerKwh: -1 }, { name: 'Fine', pricePerKwh: 0.3 }];
    file.accounts = [{ username: '../../etc', role: 'admin' }];
    expect((await t.api('POST', '/settings/import', { body: file })).status).toBe(400);
    file.accounts = [];
    const report = (await t.api('POST', '/settings/import', { body: file })).body;
    expect(report.parts.tariffs).toMatchObject({ added: 1, skipped: 1 });
    expect(report.parts.tariffs.problems[0].length).toBeLessThan(300);
  });
});
