import { beforeAll, describe, expect, it } from 'vitest';
import { eventually, type TestApp, type TestChargePoint, useApp } from '../../tests/kit/index.js';
import { charger, driver, startTx, status, withReservationProfile } from './test-kit.js';

// One app for these checks: each uses its own charger or driver, and none moves the clock.
let t: TestApp;
const apps = useApp();
let cp: TestChargePoint;
let ann: { id: number; token: string; idTag: string };
let bob: { id: number; token: string; idTag: string };
let viewer: string;

beforeAll(async () => {
  t = await apps.start({ config: { plugins: { users: {}, reservations: { maxActivePerUser: 1, maxDuration: '30m' } } } });
  cp = await charger(t, 'CP1', 2);
  withReservationProfile(cp);
  ann = await driver(t, 'ann', 'ANN-1');
  bob = await driver(t, 'bob', 'BOB-1');
  await t.api('POST', '/users', { body: { username: 'vera', role: 'viewer', password: 'vera-password' } });
  viewer = await t.login('vera', 'vera-password');
});

const reserve = (body: Record<string, unknown>, token?: string) => t.api('POST', '/reservations', { body, ...(token ? { token } : {}) });

describe('reservation input', () => {
  it('answers 400 naming the field for bad input', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'chargerId'],
      [{ chargerId: 'CP1', connectorId: -1 }, 'connectorId'],
      [{ chargerId: 'CP1', connectorId: 7 }, 'connectorId'],
      [{ chargerId: 'CP1', connectorId: 0 }, 'connectorId'],
      [{ chargerId: 'NOPE' }, 'chargerId'],
      [{ chargerId: 'CP1', expiresAt: 'tomorrow' }, 'expiresAt'],
      [{ chargerId: 'CP1', expiresAt: new Date(Date.now() - 60_000).toISOString() }, 'expiresAt'],
      [{ chargerId: 'CP1', expiresAt: new Date(Date.now() + 45 * 60_000).toISOString() }, 'expiresAt'],
      [{ chargerId: 'CP1', colour: 'red' }, 'colour'],
    ];
    for (const [body, field] of cases) {
      const res = await reserve(body, ann.token);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field), JSON.stringify(body)).toContain(field);
    }
    const staff = await reserve({ chargerId: 'CP1', idTag: 'NO-SUCH' });
    expect(staff.body).toMatchObject({ errors: [{ field: 'idTag' }] });
  });

  it('answers 409 for a connector that is not Available, and for a driver over the limit', async () => {
    await status(cp, 2, 'Faulted');
    const faulted = await reserve({ chargerId: 'CP1', connectorId: 2 }, ann.token);
    expect(faulted.status).toBe(409);
    expect(faulted.body.message).toMatch(/Faulted/);
    const first = await reserve({ chargerId: 'CP1', connectorId: 1 }, ann.token);
    expect(first.status).toBe(201);
    await status(cp, 2, 'Available');
    const second = await reserve({ chargerId: 'CP1', connectorId: 2 }, ann.token);
    expect(second.status).toBe(409);
    expect(second.body.message).toMatch(/at most 1/);
    // Someone else cannot take Ann's connector.
    expect((await reserve({ chargerId: 'CP1', connectorId: 1 }, bob.token)).status).toBe(409);
    expect((await t.api('DELETE', `/reservations/${first.body.id}`, { token: ann.token })).status).toBe(200);
    await eventually(async () => (await t.api('GET', '/chargers')).body.find((c: { id: string }) => c.id === 'CP1').connectors[0].status === 'Available');
  });

  it('answers 409 for an offline charger', async () => {
    const off = await t.chargePoint('CP-OFF');
    await off.boot();
    await status(off, 1, 'Available');
    await off.close({ code: 1000 });
    const res = await reserve({ chargerId: 'CP-OFF', connectorId: 1 }, ann.token);
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/offline/);
  });
});

describe('what a driver may see and do', () => {
  it('reserves only with their own cards; staff reserve for anyone', async () => {
    const other = await reserve({ chargerId: 'CP1', idTag: bob.idTag }, ann.token);
    expect(other.status).toBe(403);
    const forBob = await reserve({ chargerId: 'CP1', connectorId: 1, userId: bob.id });
    expect(forBob.status, JSON.stringify(forBob.body)).toBe(201);
    expect(forBob.body).toMatchObject({ idTag: 'BOB-1', userId: bob.id, createdBy: 'admin' });
    expect((await reserve({ chargerId: 'CP1' }, viewer)).status).toBe(403);
    await t.api('DELETE', `/reservations/${forBob.body.id}`);
    await eventually(async () => (await t.api('GET', '/chargers')).body.find((c: { id: string }) => c.id === 'CP1').connectors[0].status === 'Available');
  });

  it('cannot see or cancel another driver\'s reservations', async () => {
    const mine = await reserve({ chargerId: 'CP1', connectorId: 1 }, bob.token);
    expect(mine.status).toBe(201);
    expect((await t.api('GET', `/reservations/${mine.body.id}`, { token: ann.token })).status).toBe(404);
    expect((await t.api('DELETE', `/reservations/${mine.body.id}`, { token: ann.token })).status).toBe(404);
    const annList = await t.api('GET', `/reservations?userId=${bob.id}`, { token: ann.token });
    expect(annList.body.every((r: { userId: number }) => r.userId === ann.id)).toBe(true);
    expect((await t.api('GET', `/reservations?userId=${bob.id}`)).body.map((r: { id: number }) => r.id)).toContain(mine.body.id);
    // The holds list tells Ann the connector is taken, not by whom.
    const holds = (await t.api('GET', '/reservations/holds', { token: ann.token })).body;
    expect(holds).toEqual([{ chargerId: 'CP1', connectorId: 1, kind: 'reservation', until: mine.body.expiresAt, mine: false }]);
    expect((await t.api('DELETE', `/reservations/${mine.body.id}`, { token: viewer })).status).toBe(403);
    expect((await t.api('DELETE', `/reservations/${mine.body.id}`, { token: bob.token })).status).toBe(200);
  });

  it('cannot stop or watch another driver\'s session', async () => {
    const tx = await startTx(cp, bob.idTag, 2);
    expect(tx.idTagInfo.status).toBe('Accepted');
    expect((await t.api('POST', '/reservations/stop', { token: ann.token, body: { transactionId: tx.transactionId } })).status).toBe(404);
    expect((await t.api('GET', '/reservations/session', { token: ann.token })).body).toEqual([]);
    expect((await t.api('GET', `/reservations/session?userId=${bob.id}`, { token: ann.token })).body).toEqual([]);
    const bobs = await t.api('GET', '/reservations/session', { token: bob.token });
    expect(bobs.body).toEqual([expect.objectContaining({ id: tx.transactionId, chargerId: 'CP1', connectorId: 2 })]);
    const start = await t.api('POST', '/reservations/start', { token: ann.token, body: { chargerId: 'CP1', connectorId: 1, idTag: bob.idTag } });
    expect(start.status).toBe(403);
    expect((await t.api('GET', '/reservations/session', { token: null })).status).toBe(401);
  });
});
