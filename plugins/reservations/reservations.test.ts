import { describe, expect, it } from 'vitest';
import { eventually, type TestApp, useApp } from '../../tests/kit/index.js';
import { authorize, charger, driver, startTx, status, stopTx, withReservationProfile } from './test-kit.js';

let t: TestApp;
const apps = useApp();

const boot = (reservations: Record<string, unknown> = {}) =>
  apps.start({ config: { plugins: { users: {}, reservations } } });

describe('reservations at a charger with the Reservation profile', () => {
  it('sends ReserveNow, refuses another card there, and is used when its driver starts', async () => {
    t = await boot();
    const cp = await charger(t, 'CP1');
    const seen = withReservationProfile(cp);
    const ann = await driver(t, 'ann', 'ANN-1');
    const bob = await driver(t, 'bob', 'BOB-1');

    const made = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP1', connectorId: 1 } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ chargerId: 'CP1', connectorId: 1, idTag: 'ANN-1', userId: ann.id, state: 'active', enforcement: 'charger' });
    const minutes = (Date.parse(made.body.expiresAt) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(29);
    expect(minutes).toBeLessThanOrEqual(30);
    expect(seen.reserved).toEqual([{ connectorId: 1, expiryDate: made.body.expiresAt, idTag: 'ANN-1', reservationId: made.body.id }]);
    await eventually(async () => (await t.api('GET', '/chargers')).body[0].connectors[0].status === 'Reserved');

    expect((await startTx(cp, 'BOB-1')).idTagInfo.status).toBe('Invalid');
    expect(await authorize(cp, 'ANN-1')).toMatchObject({ status: 'Accepted' });
    const tx = await startTx(cp, 'ANN-1', 1, { reservationId: made.body.id });
    expect(tx.idTagInfo.status).toBe('Accepted');

    const after = await eventually(async () => {
      const r = await t.api('GET', `/reservations/${made.body.id}`, { token: ann.token });
      return r.body.state === 'used' ? r.body : null;
    });
    expect(after).toMatchObject({ state: 'used', transactionId: tx.transactionId, noShow: false });
    expect(t.seen('reservation.ended')).toEqual([expect.objectContaining({ id: made.body.id, state: 'used', userId: ann.id })]);
    void bob;
  });

  it('lets a card of the reserving card\'s group use the reservation, and no other card', async () => {
    t = await boot();
    const cp = await charger(t, 'CP1');
    withReservationProfile(cp);
    const group = await t.api('POST', '/tags', { body: { idTag: 'FLEET' } });
    expect(group.status).toBe(201);
    const ann = await driver(t, 'ann', 'ANN-1', { parentIdTag: 'FLEET' });
    await driver(t, 'cid', 'CID-1', { parentIdTag: 'FLEET' });
    await driver(t, 'bob', 'BOB-1');

    const made = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP1' } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ connectorId: 1, parentIdTag: 'FLEET' });

    expect((await authorize(cp, 'BOB-1')).status).toBe('Invalid');
    expect((await authorize(cp, 'CID-1')).status).toBe('Accepted');
    const tx = await startTx(cp, 'CID-1');
    expect(tx.idTagInfo.status).toBe('Accepted');
    await eventually(async () => (await t.api('GET', `/reservations/${made.body.id}`)).body.state === 'used');
  });

  it('cancels with CancelReservation, after which any card may charge', async () => {
    t = await boot();
    const cp = await charger(t, 'CP1');
    const seen = withReservationProfile(cp);
    const ann = await driver(t, 'ann', 'ANN-1');
    await driver(t, 'bob', 'BOB-1');
    const made = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP1', connectorId: 1 } });
    expect((await authorize(cp, 'BOB-1')).status).toBe('Invalid');

    const gone = await t.api('DELETE', `/reservations/${made.body.id}`, { token: ann.token });
    expect(gone.status, JSON.stringify(gone.body)).toBe(200);
    expect(gone.body).toMatchObject({ id: made.body.id, state: 'cancelled', chargerAnswer: 'Accepted' });
    expect(seen.cancelled).toEqual([made.body.id]);
    expect((await authorize(cp, 'BOB-1')).status).toBe('Accepted');
    expect((await t.api('DELETE', `/reservations/${made.body.id}`, { token: ann.token })).status).toBe(409);
    const audit = await t.api('GET', '/audit?action=reservation.cancel');
    expect(audit.body[0]).toMatchObject({ actor: 'ann', target: `reservation:${made.body.id}` });
  });

  it('expires unused as a no-show and frees the connector', async () => {
    t = await boot({ maxDuration: '20m' });
    const cp = await charger(t, 'CP1');
    withReservationProfile(cp);
    const ann = await driver(t, 'ann', 'ANN-1');
    await driver(t, 'bob', 'BOB-1');
    const made = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP1', connectorId: 1 } });
    expect((Date.parse(made.body.expiresAt) - Date.now()) / 60_000).toBeLessThanOrEqual(20);
    expect((await authorize(cp, 'BOB-1')).status).toBe('Invalid');

    await t.clock.advance(19 * 60_000);
    expect((await t.api('GET', `/reservations/${made.body.id}`)).body.state).toBe('active');
    await t.clock.advance(60_000 + 1000);
    const r = (await t.api('GET', `/reservations/${made.body.id}`)).body;
    expect(r).toMatchObject({ state: 'expired', noShow: true });
    expect((await authorize(cp, 'BOB-1')).status).toBe('Accepted');
    const noShows = await t.api('GET', '/reservations/no-shows');
    expect(noShows.body).toEqual([expect.objectContaining({ userId: ann.id, username: 'ann', noShows: 1, used: 0 })]);
    expect((await t.api('GET', '/reservations/no-shows', { token: ann.token })).status).toBe(403);
  });
});

describe('reservations the appliance enforces itself', () => {
  it('takes over when the charger answers ReserveNow with NotImplemented', async () => {
    t = await boot();
    // This charge point has no ReserveNow handler: ocpp-rpc answers the call with a NotImplemented CALLERROR.
    const cp = await charger(t, 'CP-OLD', 2);
    const ann = await driver(t, 'ann', 'ANN-1');
    await driver(t, 'bob', 'BOB-1');
    await driver(t, 'cid', 'CID-1');
    const made = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP-OLD', connectorId: 2 } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body.enforcement).toBe('local');

    // Another card may still use the other connector, but not the reserved one.
    expect((await authorize(cp, 'BOB-1')).status).toBe('Accepted');
    expect((await startTx(cp, 'BOB-1', 2)).idTagInfo.status).toBe('Invalid');
    const bobOn1 = await startTx(cp, 'BOB-1', 1);
    expect(bobOn1.idTagInfo.status).toBe('Accepted');
    await status(cp, 1, 'Charging');
    // A card shown before a connector is chosen: refused when no free connector is left for it,
    // except the card of the session running here, which is shown to stop it.
    expect((await authorize(cp, 'CID-1')).status).toBe('Invalid');
    expect((await authorize(cp, 'BOB-1')).status).toBe('Accepted');
    expect((await authorize(cp, 'ANN-1')).status).toBe('Accepted');
    expect((await t.api('GET', `/reservations/${made.body.id}`)).body.state).toBe('active');

    const annTx = await startTx(cp, 'ANN-1', 2);
    expect(annTx.idTagInfo.status).toBe('Accepted');
    await eventually(async () => (await t.api('GET', `/reservations/${made.body.id}`)).body.state === 'used');
    await stopTx(cp, bobOn1.transactionId);
  });

  it('never sends ReserveNow to a charger listed in enforceLocally', async () => {
    t = await boot({ enforceLocally: ['CP-L'] });
    const cp = await charger(t, 'CP-L');
    const seen = withReservationProfile(cp);
    const ann = await driver(t, 'ann', 'ANN-1');
    await driver(t, 'bob', 'BOB-1');
    const made = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP-L', connectorId: 1 } });
    expect(made.body.enforcement).toBe('local');
    expect((await authorize(cp, 'BOB-1')).status).toBe('Invalid');
    expect((await startTx(cp, 'BOB-1')).idTagInfo.status).toBe('Invalid');
    const gone = await t.api('DELETE', `/reservations/${made.body.id}`, { token: ann.token });
    expect(gone.body).toMatchObject({ state: 'cancelled', chargerAnswer: null });
    expect(seen.reserved).toEqual([]);
    expect(seen.cancelled).toEqual([]);
    expect((await authorize(cp, 'BOB-1')).status).toBe('Accepted');
  });

  it('treats ReserveNow Rejected as a charger not set up for reservations', async () => {
    t = await boot();
    const cp = await charger(t, 'CP1');
    cp.handle('ReserveNow', () => ({ status: 'Rejected' }));
    const ann = await driver(t, 'ann', 'ANN-1');
    await driver(t, 'bob', 'BOB-1');
    const made = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP1' } });
    expect(made.body).toMatchObject({ state: 'active', enforcement: 'local' });
    expect((await startTx(cp, 'BOB-1')).idTagInfo.status).toBe('Invalid');
  });

  it('keeps one connector free for an "any connector" reservation (connector 0) when allowed', async () => {
    t = await boot({ connectorZero: true, enforceLocally: ['CP2'] });
    const cp = await charger(t, 'CP2', 2);
    const ann = await driver(t, 'ann', 'ANN-1');
    await driver(t, 'bob', 'BOB-1');
    await driver(t, 'cid', 'CID-1');
    const made = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP2', connectorId: 0 } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ connectorId: 0, enforcement: 'local' });

    // Bob may take one connector: the other stays free for Ann.
    const bobTx = await startTx(cp, 'BOB-1', 1);
    expect(bobTx.idTagInfo.status).toBe('Accepted');
    await status(cp, 1, 'Charging');
    expect((await startTx(cp, 'CID-1', 2)).idTagInfo.status).toBe('Invalid');
    expect((await authorize(cp, 'CID-1')).status).toBe('Invalid');
    const annTx = await startTx(cp, 'ANN-1', 2);
    expect(annTx.idTagInfo.status).toBe('Accepted');
    await eventually(async () => (await t.api('GET', `/reservations/${made.body.id}`)).body.state === 'used');
    expect((await t.api('POST', '/reservations', { body: { chargerId: 'CP2', connectorId: 0, idTag: 'CID-1' } })).status).toBe(409);
  });
});
