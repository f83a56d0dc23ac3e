import { describe, expect, it } from 'vitest';
import { eventually, type TestApp, useApp } from '../../tests/kit/index.js';
import { charger, driver, meter, now, startTx, withReservationProfile } from './test-kit.js';

let t: TestApp;
const apps = useApp();

describe('remote start and stop for drivers', () => {
  it('starts with the driver\'s card, shows energy and cost so far, and stops their session', async () => {
    t = await apps.start({ config: { plugins: { users: {}, billing: { currency: 'EUR' }, reservations: {} } } });
    const tariff = await t.api('POST', '/tariffs', { body: { name: 'Standard', pricePerKwh: 0.4 } });
    expect(tariff.status, JSON.stringify(tariff.body)).toBe(201);
    const cp = await charger(t, 'CP1');
    withReservationProfile(cp);
    const ann = await driver(t, 'ann', 'ANN-1');
    const remote: Array<Record<string, unknown>> = [];
    let txId = 0;
    cp.handle('RemoteStartTransaction', ({ params }) => {
      remote.push(params);
      // Like a charger: accept, then start the transaction with the given card.
      setTimeout(() => void startTx(cp, params.idTag, params.connectorId).then((r) => { txId = r.transactionId; }), 5);
      return { status: 'Accepted' };
    });
    cp.handle('RemoteStopTransaction', ({ params }) => {
      setTimeout(() => void cp.call('StopTransaction', { transactionId: params.transactionId, meterStop: 3500, timestamp: now(), reason: 'Remote' }), 5);
      return { status: 'Accepted' };
    });

    const reserved = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP1', connectorId: 1 } });
    expect(reserved.status).toBe(201);
    await eventually(async () => (await t.api('GET', '/chargers')).body[0].connectors[0].status === 'Reserved');
    const start = await t.api('POST', '/reservations/start', { token: ann.token, body: { chargerId: 'CP1', connectorId: 1 } });
    expect(start.status, JSON.stringify(start.body)).toBe(200);
    expect(remote).toEqual([{ connectorId: 1, idTag: 'ANN-1' }]);
    await eventually(() => txId > 0);
    await eventually(async () => (await t.api('GET', `/reservations/${reserved.body.id}`)).body.state === 'used');

    await meter(cp, txId, 1000 + 2500, 7200);
    const running = await t.api('GET', '/reservations/session', { token: ann.token });
    expect(running.body).toEqual([expect.objectContaining({
      id: txId, chargerId: 'CP1', connectorId: 1, idTag: 'ANN-1', energyWh: 2500, powerW: 7200,
      cost: { amount: '1.00', currency: 'EUR', estimate: true },
    })]);

    const stop = await t.api('POST', '/reservations/stop', { token: ann.token, body: { transactionId: txId } });
    expect(stop.status, JSON.stringify(stop.body)).toBe(200);
    await eventually(async () => (await t.api('GET', '/reservations/session', { token: ann.token })).body.length === 0);
    const [done] = (await t.api('GET', '/transactions', { token: ann.token })).body;
    expect(done).toMatchObject({ id: txId, energyWh: 2500, cost: { amount: '1.00', currency: 'EUR' } });
    expect((await t.api('POST', '/reservations/stop', { token: ann.token, body: { transactionId: txId } })).status).toBe(409);
  });

  it('refuses a remote start on a connector held for someone else, before asking the charger', async () => {
    t = await apps.start({ config: { plugins: { users: {}, reservations: {} } } });
    const cp = await charger(t, 'CP1');
    let asked = 0;
    cp.handle('RemoteStartTransaction', () => { asked++; return { status: 'Accepted' }; });
    const ann = await driver(t, 'ann', 'ANN-1');
    const bob = await driver(t, 'bob', 'BOB-1');
    expect((await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP1' } })).body.enforcement).toBe('local');
    const res = await t.api('POST', '/reservations/start', { token: bob.token, body: { chargerId: 'CP1', connectorId: 1 } });
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/held for another driver/);
    expect(asked).toBe(0);
    const bad = await t.api('POST', '/reservations/start', { token: bob.token, body: { chargerId: 'CP1' } });
    expect(bad.body).toMatchObject({ errors: [{ field: 'connectorId' }] });
  });
});
