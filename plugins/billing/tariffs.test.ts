import { beforeAll, describe, expect, it } from 'vitest';
import { definePlugin } from '../../core/plugin.js';
import { Type } from '@sinclair/typebox';
import { bootedCharger, createTag, eventually, type TestApp, type TestChargePoint, useApp } from '../../tests/kit/index.js';
import type { BillingApi } from './api.js';
import { costOf, createTariff, driver, DRIVER_PASSWORD, runSession, startSession } from './test-kit.js';

// Stands in for the users plugin's Authorize until it consults billing itself: captures the API billing provides.
let billingApi: BillingApi | undefined;
const probe = definePlugin({
  manifest: { name: 'probe', version: '0.0.0', summary: 'test: reads ctx.use("billing")', needs: ['billing'], config: Type.Object({}) },
  register(ctx) {
    return { async start() { billingApi = ctx.use<BillingApi>('billing'); } };
  },
});

describe('tariffs over the API', () => {
  let t: TestApp;
  const apps = useApp();
  let cp: TestChargePoint;

  beforeAll(async () => {
    t = await apps.start({
      extraPlugins: { probe: { plugin: probe, dir: 'plugins/billing' } },
      config: {
        plugins: {
          users: { localList: { enabled: false } }, probe: {},
          billing: { currency: 'EUR', budgets: [{ userId: 2, monthlyKwh: 10 }, { groupIdTag: 'FLEET', monthlyKwh: 20 }] },
        },
      },
    });
    cp = await bootedCharger(t, 'CP1');
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    await cp.call('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: 'Available' });
  });

  it('refuses bad tariffs with 400 naming the field', async () => {
    const bad = async (body: Record<string, unknown>) => {
      const res = await t.api('POST', '/tariffs', { body: { name: 'Bad', ...body } });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      return res.body.errors.map((e: { field: string }) => e.field);
    };
    expect(await bad({ pricePerKwh: -0.1 })).toEqual(['pricePerKwh']);
    expect(await bad({ timeOfUse: [{ from: '08:00', to: '12:00', days: ['Mon'] }, { from: '11:00', to: '13:00', days: ['Mon', 'Tue'] }] })).toEqual(['timeOfUse[1]']);
    expect(await bad({ timeOfUse: [{ from: '22:00', to: '06:00' }, { from: '05:00', to: '07:00' }] })).toEqual(['timeOfUse[1]']);
    expect(await bad({ timeOfUse: [{ from: '25:00', to: '06:00' }] })).toEqual(['timeOfUse[0].from']);
    expect(await bad({ currency: 'EUX' })).toEqual(['currency']);
    expect(await bad({ chargerIds: ['NOPE'] })).toEqual(['chargerIds[0]']);
    expect(await bad({ connectorIds: ['CP1:1', 'NOPE:2'] })).toEqual(['connectorIds[1]']);
    expect(await bad({ pricePerKwh: 0.1234567 })).toEqual(['pricePerKwh']);
    expect(await bad({ minimumAmount: 5, maximumAmount: 2 })).toEqual(['maximumAmount']);
    expect(await bad({ timeFeeMode: 'sometimes' })).toEqual(['timeFeeMode']);
    const overlapping = await t.api('POST', '/tariffs', { body: { name: 'x', timeOfUse: [{ from: '08:00', to: '12:00' }, { from: '11:00', to: '13:00' }] } });
    expect(overlapping.body.errors[0].message).toMatch(/overlaps timeOfUse\[0\] on Mon/);
    expect((await t.api('GET', '/tariffs')).body).toEqual([]);
  });

  it('keeps exactly one site default and refuses to delete it while others exist', async () => {
    const a = await createTariff(t, { name: 'A', pricePerKwh: 0.30 });
    expect(a).toMatchObject({ isDefault: true, currency: 'EUR', version: 1, timeOfUse: [] });
    const b = await createTariff(t, { name: 'B', pricePerKwh: 0.40, chargerIds: ['CP1'] });
    expect(b.isDefault).toBe(false);
    expect((await t.api('PATCH', `/tariffs/${a.id}`, { body: { isDefault: false } })).body.errors[0].field).toBe('isDefault');
    expect((await t.api('DELETE', `/tariffs/${a.id}`)).status).toBe(409);
    const moved = await t.api('PATCH', `/tariffs/${b.id}`, { body: { isDefault: true } });
    expect(moved.body).toMatchObject({ isDefault: true, version: 2 });
    expect((await t.api('GET', `/tariffs/${a.id}`)).body.isDefault).toBe(false);
    expect((await t.api('DELETE', `/tariffs/${a.id}`)).status).toBe(204);
    expect((await t.api('GET', `/tariffs/${a.id}`)).status).toBe(404);
    expect((await t.api('DELETE', `/tariffs/${b.id}`)).status).toBe(204);
  });

  it('lets only admins change tariffs but shows everyone the price before charging', async () => {
    const eve = await driver(t, 'eve');
    const token = await t.login('eve', DRIVER_PASSWORD);
    expect((await t.api('POST', '/tariffs', { token, body: { name: 'Mine', pricePerKwh: 0 } })).status).toBe(403);
    const tariff = await createTariff(t, {
      name: 'Members', pricePerKwh: 0.35, sessionFee: 1, pricePerMinute: 0.10, timeFeeMode: 'idleAfterGrace', graceMinutes: 60, isDefault: true,
    });
    const now = await t.api('GET', '/tariffs/current?chargerId=CP1&connectorId=1', { token });
    expect(now.status).toBe(200);
    expect(now.body).toMatchObject({ rule: 'default', tariff: { id: tariff.id }, prices: { pricePerKwh: 0.35 } });
    expect(now.body.text).toBe('0.35 €/kWh, 1.00 € per session, 0.10 €/min after 60 min idle');
    expect((await t.api('GET', '/tariffs/current?chargerId=NOPE', { token })).status).toBe(404);
    expect(eve.id).toBeGreaterThan(0);
  });

  it('applies the most specific tariff: connector, charger with group, charger, group, default', async () => {
    const fleetParent = 'FLEET';
    await createTag(t, { idTag: fleetParent });
    const member = await driver(t, 'fleetie', { parentIdTag: fleetParent });
    const other = await driver(t, 'walkin');
    const cpX = await bootedCharger(t, 'CP-X');
    const ids = {
      group: (await createTariff(t, { name: 'Fleet anywhere', pricePerKwh: 0.20, groupIdTags: [fleetParent] })).id,
      charger: (await createTariff(t, { name: 'CP1', pricePerKwh: 0.40, chargerIds: ['CP1'] })).id,
      chargerGroup: (await createTariff(t, { name: 'Fleet at CP1', pricePerKwh: 0.25, chargerIds: ['CP1'], groupIdTags: ['fleet'] })).id,
      connector: (await createTariff(t, { name: 'CP1 fast connector', pricePerKwh: 0.50, connectorIds: ['CP1:2'] })).id,
    };
    const current = async (chargerId: string, connectorId: number, idTag: string) =>
      (await t.api('GET', `/tariffs/current?chargerId=${chargerId}&connectorId=${connectorId}&idTag=${idTag}`)).body as { rule: string; tariff: { id: number } };
    expect(await current('CP1', 2, member.idTag)).toMatchObject({ rule: 'connector', tariff: { id: ids.connector } });
    expect(await current('CP1', 1, member.idTag)).toMatchObject({ rule: 'charger+group', tariff: { id: ids.chargerGroup } });
    expect(await current('CP1', 1, other.idTag)).toMatchObject({ rule: 'charger', tariff: { id: ids.charger } });
    expect(await current('CP-X', 1, member.idTag)).toMatchObject({ rule: 'group', tariff: { id: ids.group } });
    expect((await current('CP-X', 1, other.idTag)).rule).toBe('default');

    // A real session of the fleet card at CP1 connector 1 is priced with the charger+group tariff.
    const id = await runSession(cp, { idTag: member.idTag, start: t.clock.iso(), stop: new Date(t.clock.nowMs() + 60_000).toISOString(), meterStart: 0, meterStop: 10_000 });
    expect(await costOf(t, id)).toEqual({ amount: '2.50', currency: 'EUR' });
    const assignments = (await t.api('GET', '/tariffs/assignments')).body;
    expect(assignments.rule).toMatch(/most specific/);
    expect(assignments.assignments).toEqual(expect.arrayContaining([
      expect.objectContaining({ chargerId: 'CP1', connectorId: 2, tariffId: ids.connector, rule: 'connector', groupTariffs: [] }),
      expect.objectContaining({
        chargerId: 'CP1', connectorId: 1, tariffId: ids.charger, rule: 'charger',
        groupTariffs: [expect.objectContaining({ id: ids.chargerGroup })],
      }),
    ]));
    await cpX.close();
  });

  it('refuses a card at the charger once its monthly energy budget is used up', async () => {
    // budgets in the config: user 2 may charge 10 kWh a month, the FLEET group 20 kWh.
    const users = (await t.api('GET', '/users')).body as Array<{ id: number; username: string }>;
    const eve = users.find((u) => u.username === 'eve')!;
    expect(eve.id).toBe(2);
    const eveTag = 'EVE-T';
    expect(await billingApi!.budgetExceeded(eve.id, eveTag)).toBe(false);
    const cpB = await bootedCharger(t, 'CP-B');
    const id = await startSession(cpB, { idTag: eveTag, start: t.clock.iso(), meterStart: 0 });
    await cpB.call('MeterValues', { connectorId: 1, transactionId: id, meterValue: [{ timestamp: t.clock.iso(), sampledValue: [{ value: '9.5', unit: 'kWh' }] }] });
    expect(await billingApi!.budgetExceeded(eve.id, eveTag)).toBe(false);
    await cpB.call('StopTransaction', { transactionId: id, meterStop: 10_200, timestamp: new Date(t.clock.nowMs() + 1000).toISOString() });
    await eventually(async () => billingApi!.budgetExceeded(eve.id, eveTag));
    const status = await billingApi!.budgetStatus(eve.id, eveTag);
    expect(status[0]).toMatchObject({ userId: 2, monthlyKwh: 10, usedWh: 10_200, exceeded: true });
    expect(status[0]!.reason).toMatch(/10 kWh is used up/);
    // The charger now gets Blocked for Eve's card, through the core's restrict decision.
    expect(await cpB.call('Authorize', { idTag: eveTag })).toMatchObject({ idTagInfo: { status: 'Blocked' } });
    const token = await t.login('eve', DRIVER_PASSWORD);
    expect((await t.api('GET', '/budgets', { token })).body).toEqual([expect.objectContaining({ userId: 2, exceeded: true })]);
    // Other users are not affected; the fleet group has used 10 of its 20 kWh (the CP1 session above).
    expect(await billingApi!.budgetExceeded(null, 'WALKIN-T')).toBe(false);
    const fleet = (await t.api('GET', '/budgets')).body.find((b: { groupIdTag: string | null }) => b.groupIdTag === 'FLEET');
    expect(fleet).toMatchObject({ usedWh: 10_000, exceeded: false });
  });
});
