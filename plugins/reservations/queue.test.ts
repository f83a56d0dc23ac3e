import { describe, expect, it } from 'vitest';
import { eventually, type TestApp, useApp } from '../../tests/kit/index.js';
import { authorize, charger, driver, startTx, status, stopTx } from './test-kit.js';

let t: TestApp;
const apps = useApp();

describe('the waitlist', () => {
  it('offers a freed connector to the first driver in line, holds it, and skips a no-show for the next', async () => {
    t = await apps.start({ config: { plugins: { users: {}, reservations: { queueHold: '5m' } } } });
    const cp = await charger(t, 'CP1');
    const busy = await driver(t, 'busy', 'BUSY-1');
    const ann = await driver(t, 'ann', 'ANN-1');
    const bob = await driver(t, 'bob', 'BOB-1');
    await driver(t, 'cid', 'CID-1');
    const running = await startTx(cp, busy.idTag);
    await status(cp, 1, 'Charging');

    const annIn = await t.api('POST', '/reservations/queue', { token: ann.token, body: { chargerId: 'CP1' } });
    expect(annIn.status, JSON.stringify(annIn.body)).toBe(201);
    expect(annIn.body).toMatchObject({ userId: ann.id, chargerId: 'CP1', state: 'waiting', position: 1 });
    // Bob waits for any charger of the site.
    const bobIn = await t.api('POST', '/reservations/queue', { token: bob.token, body: {} });
    expect(bobIn.body).toMatchObject({ chargerId: null, state: 'waiting', position: 2 });
    expect((await t.api('POST', '/reservations/queue', { token: bob.token, body: {} })).status).toBe(409);
    // Drivers see only their own place in line.
    expect((await t.api('GET', '/reservations/queue', { token: bob.token })).body).toEqual([expect.objectContaining({ id: bobIn.body.id, position: 2 })]);

    const offered = t.waitFor('queue.offered');
    await stopTx(cp, running.transactionId);
    await status(cp, 1, 'Available');
    const offer = await offered;
    expect(offer).toMatchObject({ entryId: annIn.body.id, userId: ann.id, chargerId: 'CP1', connectorId: 1 });
    expect(Date.parse(offer.holdUntil) - t.clock.nowMs()).toBeGreaterThan(4.9 * 60_000);
    // Held for Ann: other cards are refused there, and nobody can reserve it.
    expect((await authorize(cp, 'CID-1')).status).toBe('Invalid');
    expect((await startTx(cp, 'CID-1')).idTagInfo.status).toBe('Invalid');
    const grab = await t.api('POST', '/reservations', { token: bob.token, body: { chargerId: 'CP1', connectorId: 1 } });
    expect(grab.status).toBe(409);
    expect((await t.api('GET', '/reservations/holds', { token: ann.token })).body).toEqual([
      { chargerId: 'CP1', connectorId: 1, kind: 'queue', until: offer.holdUntil, mine: true },
    ]);

    // Ann does not come: after the hold, Bob gets the connector.
    const next = t.waitFor('queue.offered', (e) => e.userId === bob.id);
    await t.clock.advance(5 * 60_000 + 1000);
    expect(await next).toMatchObject({ entryId: bobIn.body.id, chargerId: 'CP1', connectorId: 1 });
    expect(t.seen('queue.skipped')).toEqual([expect.objectContaining({ entryId: annIn.body.id, userId: ann.id })]);
    expect((await t.api('GET', `/reservations/queue?all=true`, { token: ann.token })).body[0]).toMatchObject({ state: 'skipped' });
    expect((await authorize(cp, 'ANN-1')).status).toBe('Invalid');

    const bobTx = await startTx(cp, 'BOB-1');
    expect(bobTx.idTagInfo.status).toBe('Accepted');
    await eventually(async () => (await t.api('GET', '/reservations/queue?all=true', { token: bob.token })).body[0]?.state === 'used');
    expect((await t.api('GET', '/reservations/queue')).body).toEqual([]);
  });

  it('ends a place that waited longer than queueMaxWait without an offer, tells its driver, and keeps the others', async () => {
    // Sessions outlive the 12 hours of the test.
    t = await apps.start({ config: { http: { sessionTtl: '48h' }, plugins: { users: {}, reservations: { queueMaxWait: '12h' } } } });
    const cp = await charger(t, 'CP1');
    const busy = await driver(t, 'busy', 'BUSY-1');
    const ann = await driver(t, 'ann', 'ANN-1');
    const bob = await driver(t, 'bob', 'BOB-1');
    await startTx(cp, busy.idTag);
    await status(cp, 1, 'Charging');
    const annIn = await t.api('POST', '/reservations/queue', { token: ann.token, body: { chargerId: 'CP1' } });
    expect(annIn.body).toMatchObject({ state: 'waiting' });
    await t.clock.advance(11 * 3_600_000);
    const bobIn = await t.api('POST', '/reservations/queue', { token: bob.token, body: { chargerId: 'CP1' } });
    expect(bobIn.body).toMatchObject({ state: 'waiting', position: 2 });

    const expired = t.waitFor('queue.expired');
    await t.clock.advance(3_600_000 + 60_000);
    expect(await expired).toMatchObject({ entryId: annIn.body.id, userId: ann.id, chargerId: 'CP1', createdAt: annIn.body.createdAt });
    expect((await t.api('GET', '/reservations/queue?all=true', { token: ann.token })).body[0]).toMatchObject({ state: 'expired' });
    // Bob moves up; Ann may join again.
    expect((await t.api('GET', '/reservations/queue', { token: bob.token })).body).toEqual([expect.objectContaining({ id: bobIn.body.id, state: 'waiting', position: 1 })]);
    expect((await t.api('POST', '/reservations/queue', { token: ann.token, body: { chargerId: 'CP1' } })).status).toBe(201);
  });

  it('offers a free connector at once to a driver who joins, and lets a driver leave the line', async () => {
    t = await apps.start({ config: { plugins: { users: {}, reservations: {} } } });
    await charger(t, 'CP1');
    const ann = await driver(t, 'ann', 'ANN-1');
    const offered = t.waitFor('queue.offered');
    const joined = await t.api('POST', '/reservations/queue', { token: ann.token, body: {} });
    expect(joined.body).toMatchObject({ state: 'offered', offeredChargerId: 'CP1', offeredConnectorId: 1, position: null });
    expect((await offered).userId).toBe(ann.id);

    const bob = await driver(t, 'bob', 'BOB-1');
    expect((await t.api('DELETE', `/reservations/queue/${joined.body.id}`, { token: bob.token })).status).toBe(404);
    const left = await t.api('DELETE', `/reservations/queue/${joined.body.id}`, { token: ann.token });
    expect(left.body).toMatchObject({ state: 'cancelled' });
    expect((await t.api('GET', '/reservations/holds')).body).toEqual([]);
    expect((await t.api('POST', '/reservations/queue', { token: ann.token, body: { chargerId: 'NOPE' } })).body)
      .toMatchObject({ errors: [{ field: 'chargerId' }] });
  });

  it('does not offer a connector to the line while its reservation\'s driver is charging there', async () => {
    t = await apps.start({ config: { plugins: { users: {}, reservations: { enforceLocally: ['CP1'] } } } });
    const cp = await charger(t, 'CP1');
    const ann = await driver(t, 'ann', 'ANN-1');
    const bob = await driver(t, 'bob', 'BOB-1');
    const made = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP1' } });
    const bobIn = await t.api('POST', '/reservations/queue', { token: bob.token, body: { chargerId: 'CP1' } });
    expect(bobIn.body.state).toBe('waiting');
    // The charger starts Ann's session but has not reported Charging yet.
    expect((await startTx(cp, ann.idTag)).idTagInfo.status).toBe('Accepted');
    await eventually(async () => (await t.api('GET', `/reservations/${made.body.id}`)).body.state === 'used');
    await t.clock.advance(1000);
    expect(t.seen('queue.offered')).toEqual([]);
    expect((await t.api('GET', `/reservations/queue`, { token: bob.token })).body[0]).toMatchObject({ state: 'waiting', position: 1 });
  });
});
