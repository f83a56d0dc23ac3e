import { afterAll, describe, expect, it } from 'vitest';
import { bootedCharger, createTag, createUser, useApp } from '../kit/index.js';
import { PG_SERVER, dropDatabase, postgresAdmin, postgresSkipped, uniqueDatabase } from '../kit/postgres.js';

const SERVER = PG_SERVER;
const database = uniqueDatabase('ck_test');
const skip = await postgresSkipped();

describe.skipIf(skip)('the appliance on PostgreSQL', () => {
  const apps = useApp();
  afterAll(async () => {
    await dropDatabase(database);
  });

  it('migrates every plugin, bills a session, and keeps it across a restart', async () => {
    await postgresAdmin((c) => c.query(`create database ${database}`));
    const t = await apps.start({
      config: {
        storage: { client: 'postgres', connection: { ...SERVER, database } },
        plugins: {
          users: {}, billing: { currency: 'EUR' }, diagnostics: {}, alerts: { channels: [] }, reservations: {},
          loadbalancing: { circuits: [{ id: 'main', maxCurrent: 32, chargers: ['PG1'] }] },
          fleet: {}, chargermodels: {}, blueprint: {},
        },
      },
    });
    const plugins = (await t.api('GET', '/plugins')).body as Array<{ name: string; state: string }>;
    expect(plugins.filter((p) => p.state !== 'running')).toEqual([]);

    const kim = await createUser(t, 'kim', 'driver');
    await createTag(t, { idTag: 'PGTAG', userId: kim.id });
    expect((await t.api('POST', '/tariffs', { body: { name: 'Standard', pricePerKwh: 0.3, sessionFee: 1 } })).status).toBe(201);
    const cp = await bootedCharger(t, 'PG1');
    cp.handle('SetChargingProfile', () => ({ status: 'Accepted' }));
    cp.handle('GetConfiguration', () => ({ configurationKey: [] }));
    cp.handle('ChangeConfiguration', () => ({ status: 'Accepted' }));
    const start = new Date(Date.now() - 3_600_000).toISOString();
    const { transactionId, idTagInfo } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'PGTAG', meterStart: 1000, timestamp: start }) as { transactionId: number; idTagInfo: { status: string } };
    expect(idTagInfo.status).toBe('Accepted');
    await cp.call('MeterValues', { connectorId: 1, transactionId, meterValue: [{ timestamp: new Date(Date.now() - 1_800_000).toISOString(), sampledValue: [{ value: '6000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
    await cp.call('StopTransaction', { transactionId, meterStop: 11000, timestamp: new Date().toISOString(), reason: 'Local' });
    await expect.poll(async () => (await t.api('GET', `/transactions/${transactionId}`)).body.cost).toEqual({ amount: '4.00', currency: 'EUR' });

    // A settings change is a version row (id returned by PostgreSQL), and the plugin takes it live.
    const put = await t.api('PUT', '/settings/sections/plugins.blueprint', { body: { value: { greeting: 'moin' } } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.version).toBeGreaterThan(1);
    expect((await t.api('GET', '/blueprint/hello')).body.message).toMatch(/^moin /);

    await t.restart();
    const tx = (await t.api('GET', `/transactions/${transactionId}`)).body;
    expect(tx).toMatchObject({ idTag: 'PGTAG', userId: kim.id, energyWh: 10000, stopReason: 'Local', cost: { amount: '4.00', currency: 'EUR' } });
    expect(tx.meterValues).toHaveLength(1);
    const statement = (await t.api('GET', `/statements?userId=${kim.id}&period=${start.slice(0, 7)}`)).body;
    expect(statement).toMatchObject({ amount: '4.00', energyWh: 10000 });
  }, 60_000);
});
