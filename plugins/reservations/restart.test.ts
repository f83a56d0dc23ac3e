import { describe, expect, it } from 'vitest';
import { eventually, type TestApp, type TestChargePoint, useApp } from '../../tests/kit/index.js';
import { charger, driver, startTx, withReservationProfile } from './test-kit.js';

let t: TestApp;
const apps = useApp();

const boot = (reservations: Record<string, unknown> = {}) =>
  apps.start({ config: { plugins: { users: {}, reservations } } });

/** The charger restarts: its old socket goes, a new one opens (not booted yet). */
async function reconnect(old: TestChargePoint): Promise<TestChargePoint> {
  await old.close({ code: 1000, force: true });
  return t.chargePoint(old.id);
}

/** What reaches a charge point, in order: the calls it gets, and the answer to its boot. */
function inbox(cp: TestChargePoint): string[] {
  const got: string[] = [];
  cp.on('message', ({ message, outbound }: { message: Buffer | string; outbound: boolean }) => {
    if (outbound) return;
    const [type, , body] = JSON.parse(String(message)) as [number, string, unknown];
    if (type === 2) got.push(String(body));
    const reply = body as { status?: string; interval?: number };
    if (type === 3 && reply.interval !== undefined) got.push(`boot ${reply.status}`);
  });
  return got;
}

const reservation = async (id: number) => (await t.api('GET', `/reservations/${id}`)).body;

/** The common start: the appliance, CP1 with the Reservation profile, and Ann's reservation of its connector 1. */
async function annReservesCP1() {
  t = await boot();
  const cp = await charger(t, 'CP1');
  withReservationProfile(cp);
  const ann = await driver(t, 'ann', 'ANN-1');
  const made = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP1', connectorId: 1 } });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  return { cp, ann, made };
}

describe('reservations at a charger that restarts', () => {
  it('sends ReserveNow again, with the same reservation, once the restarted charger\'s boot is accepted', async () => {
    t = await boot();
    const cp = await charger(t, 'CP1');
    const seen = withReservationProfile(cp);
    expect((await t.api('POST', '/tags', { body: { idTag: 'FLEET' } })).status).toBe(201);
    const ann = await driver(t, 'ann', 'ANN-1', { parentIdTag: 'FLEET' });
    const made = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP1', connectorId: 1 } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const sent = { connectorId: 1, expiryDate: made.body.expiresAt, idTag: 'ANN-1', parentIdTag: 'FLEET', reservationId: made.body.id };
    expect(seen.reserved).toEqual([sent]);

    const cp2 = await reconnect(cp);
    const again = withReservationProfile(cp2);
    const got = inbox(cp2);
    expect((await cp2.boot()).status).toBe('Accepted');
    await eventually(() => again.reserved.length > 0);
    expect(again.reserved).toEqual([sent]);
    // The charger hears that its boot was accepted before it is sent anything.
    expect(got.slice(0, 2)).toEqual(['boot Accepted', 'ReserveNow']);
    expect(await reservation(made.body.id)).toMatchObject({ state: 'active', enforcement: 'charger', endReason: null });
  });

  it('sends nothing to a restarted charger whose boot is Pending, and sends it once the boot is accepted', async () => {
    const { cp, made } = await annReservesCP1();
    // No route withdraws an approval: this charger comes back as if it had never been approved.
    await t.app.db('chargers').where({ id: 'CP1' }).update({ approved: false });

    const cp2 = await reconnect(cp);
    const again = withReservationProfile(cp2);
    expect((await cp2.boot()).status).toBe('Pending');
    await t.app.bus.idle();
    expect(again.reserved).toEqual([]);

    expect((await t.api('POST', '/chargers/CP1/approve')).status).toBe(200);
    expect((await cp2.boot()).status).toBe('Accepted');
    await eventually(() => again.reserved.length > 0);
    expect(again.reserved).toEqual([expect.objectContaining({ reservationId: made.body.id, connectorId: 1, idTag: 'ANN-1' })]);
  });

  it('sends the reservations once when the charger boots twice on one connection', async () => {
    const { cp, made } = await annReservesCP1();

    const cp2 = await reconnect(cp);
    const again = withReservationProfile(cp2);
    const boots = await Promise.all([cp2.boot(), cp2.boot()]);
    expect(boots.map((b) => b.status)).toEqual(['Accepted', 'Accepted']);
    await eventually(() => again.reserved.length > 0);
    await t.app.bus.idle();
    expect(again.reserved.map((r) => r.reservationId)).toEqual([made.body.id]);
  });

  it('does not send again a reservation that expired or was cancelled', async () => {
    t = await boot({ maxActivePerUser: 3 });
    const cp = await charger(t, 'CP1', 3);
    withReservationProfile(cp);
    const ann = await driver(t, 'ann', 'ANN-1');
    const reserve = async (connectorId: number, expiresAt?: string) => {
      const r = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP1', connectorId, ...(expiresAt ? { expiresAt } : {}) } });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body.id as number;
    };
    const soon = await reserve(1, new Date(t.clock.nowMs() + 5 * 60_000).toISOString());
    const kept = await reserve(2);
    const dropped = await reserve(3);
    expect((await t.api('DELETE', `/reservations/${dropped}`, { token: ann.token })).status).toBe(200);
    await t.clock.advance(6 * 60_000);
    expect((await reservation(soon)).state).toBe('expired');

    const cp2 = await reconnect(cp);
    const again = withReservationProfile(cp2);
    expect((await cp2.boot()).status).toBe('Accepted');
    await eventually(() => again.reserved.length > 0);
    await t.app.bus.idle();
    expect(again.reserved.map((r) => r.reservationId)).toEqual([kept]);
  });

  it('keeps the reservation, enforced by the appliance, when the restarted charger answers Rejected', async () => {
    t = await boot();
    const cp = await charger(t, 'CP1');
    withReservationProfile(cp);
    const ann = await driver(t, 'ann', 'ANN-1');
    await driver(t, 'bob', 'BOB-1');
    const made = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP1', connectorId: 1 } });
    expect(made.body.enforcement).toBe('charger');

    const cp2 = await reconnect(cp);
    const asked: number[] = [];
    // OCPP 1.6 Rejected: "not configured to accept reservations", as at a new reservation.
    cp2.handle('ReserveNow', ({ params }) => { asked.push(params.reservationId); return { status: 'Rejected' }; });
    expect((await cp2.boot()).status).toBe('Accepted');
    await eventually(async () => (await reservation(made.body.id)).enforcement === 'local');
    expect(asked).toEqual([made.body.id]);
    expect(await reservation(made.body.id)).toMatchObject({ state: 'active', endReason: null });
    expect((await startTx(cp2, 'BOB-1')).idTagInfo.status).toBe('Invalid');
  });

  it('cancels a reservation the restarted charger refuses or fails, says why, and tells its driver', async () => {
    t = await boot();
    const cp = await charger(t, 'CP1', 2);
    withReservationProfile(cp);
    const ann = await driver(t, 'ann', 'ANN-1');
    const bob = await driver(t, 'bob', 'BOB-1');
    const annR = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP1', connectorId: 1 } });
    const bobR = await t.api('POST', '/reservations', { token: bob.token, body: { chargerId: 'CP1', connectorId: 2 } });
    expect([annR.status, bobR.status]).toEqual([201, 201]);

    const cp2 = await reconnect(cp);
    cp2.handle('ReserveNow', ({ params }) => {
      if (params.connectorId === 1) return { status: 'Occupied' };
      throw new Error('reservation store corrupted');
    });
    expect((await cp2.boot()).status).toBe('Accepted');
    await eventually(async () => (await reservation(bobR.body.id)).state === 'cancelled');

    const annNow = await t.api('GET', `/reservations/${annR.body.id}`, { token: ann.token });
    expect(annNow.body).toMatchObject({ state: 'cancelled', endReason: expect.stringMatching(/CP1 restarted.*connector 1 is Occupied/) });
    const bobNow = await t.api('GET', '/reservations', { token: bob.token });
    expect(bobNow.body).toEqual([expect.objectContaining({
      id: bobR.body.id, state: 'cancelled', endReason: expect.stringMatching(/CP1 restarted.*GenericError: reservation store corrupted/),
    })]);
    // The drivers' event stream carries reservation.ended (it has their userId), with the reason.
    expect(t.seen('reservation.ended')).toEqual(expect.arrayContaining([
      expect.objectContaining({ id: annR.body.id, userId: ann.id, state: 'cancelled', endReason: annNow.body.endReason }),
      expect.objectContaining({ id: bobR.body.id, userId: bob.id, state: 'cancelled' }),
    ]));
    const audit = await t.api('GET', `/audit?action=reservation.cancel`);
    expect(audit.body).toEqual(expect.arrayContaining([expect.objectContaining({ actor: 'plugin:reservations', target: `reservation:${annR.body.id}` })]));
  });

  it('keeps the reservation when the charger goes offline during the re-send, and sends it at its next boot', async () => {
    const { cp, made } = await annReservesCP1();

    const cp2 = await reconnect(cp);
    cp2.handle('ReserveNow', async () => {
      await cp2.close({ code: 1000, force: true });
      return { status: 'Accepted' };
    });
    const gone = t.waitFor('charger.disconnected', (e) => e.chargerId === 'CP1');
    expect((await cp2.boot()).status).toBe('Accepted');
    await gone;
    await t.app.bus.idle();
    expect(await reservation(made.body.id)).toMatchObject({ state: 'active', enforcement: 'charger' });

    const cp3 = await t.chargePoint('CP1');
    const again = withReservationProfile(cp3);
    expect((await cp3.boot()).status).toBe('Accepted');
    await eventually(() => again.reserved.length > 0);
    expect(again.reserved).toEqual([expect.objectContaining({ reservationId: made.body.id })]);
    expect((await reservation(made.body.id)).state).toBe('active');
  });

  it('ends the reservations and the places in line of a charger an operator removes, telling each driver why', async () => {
    const { made } = await annReservesCP1();
    const bob = await driver(t, 'bob', 'BOB-1');
    const bobIn = await t.api('POST', '/reservations/queue', { token: bob.token, body: { chargerId: 'CP1' } });
    expect(bobIn.status, JSON.stringify(bobIn.body)).toBe(201);

    const ended = t.waitFor('reservation.ended', (e) => e.id === made.body.id);
    expect((await t.api('DELETE', '/chargers/CP1')).status).toBe(204);
    expect(await ended).toMatchObject({ state: 'cancelled', userId: expect.any(Number) });
    await t.app.bus.idle();
    expect(await reservation(made.body.id)).toMatchObject({ state: 'cancelled', endReason: expect.stringContaining('CP1 was removed from the site by admin') });
    expect((await t.api('GET', '/reservations/queue?all=true', { token: bob.token })).body[0]).toMatchObject({ id: bobIn.body.id, state: 'cancelled' });
  });

  it('puts a driver waiting for any charger back in line when the charger they were offered is removed', async () => {
    await annReservesCP1();
    // CP1's only connector is reserved: Cid, waiting for any charger, is offered CP2's.
    await charger(t, 'CP2');
    const cid = await driver(t, 'cid', 'CID-1');
    const offered = t.waitFor('queue.offered', (e) => e.userId === cid.id);
    const cidIn = await t.api('POST', '/reservations/queue', { token: cid.token, body: {} });
    expect(cidIn.status, JSON.stringify(cidIn.body)).toBe(201);
    expect(await offered).toMatchObject({ chargerId: 'CP2' });

    expect((await t.api('DELETE', '/chargers/CP2')).status).toBe(204);
    await t.app.bus.idle();
    expect((await t.api('GET', '/reservations/queue', { token: cid.token })).body).toEqual([expect.objectContaining({ id: cidIn.body.id, state: 'waiting' })]);
  });
});
