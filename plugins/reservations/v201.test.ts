import { describe, expect, it } from 'vitest';
import { eventually, type TestApp, type TestChargePoint, useApp } from '../../tests/kit/index.js';
import { boot201, sendTx, station } from '../../tests/ocpp/v201-kit.js';
import { driver, now } from './test-kit.js';

let t: TestApp;
const apps = useApp();

const boot = () => apps.start({ config: { plugins: { users: {}, reservations: {} } } });

async function status201(cp: TestChargePoint, evseId: number, connectorStatus: string): Promise<void> {
  await cp.call('StatusNotification', { timestamp: now(), connectorStatus, evseId, connectorId: 1 });
}

/** A booted 2.0.1 station whose EVSEs report Available and that holds what it is sent, as a station with reservations does. */
async function reservingStation(id: string, evses = 1) {
  const cp = await station(t, id);
  await boot201(cp);
  for (let e = 1; e <= evses; e++) await status201(cp, e, 'Available');
  const seen = { reserved: [] as Array<Record<string, any>>, cancelled: [] as number[] }; // any: the station reads what it needs
  cp.handle('ReserveNow', ({ params }) => {
    seen.reserved.push(params);
    setTimeout(() => void status201(cp, params.evseId ?? 1, 'Reserved').catch(() => undefined), 5);
    return { status: 'Accepted' };
  });
  cp.handle('CancelReservation', ({ params }) => {
    seen.cancelled.push(params.reservationId);
    return { status: seen.reserved.some((r) => r.id === params.reservationId) ? 'Accepted' : 'Rejected' };
  });
  return { cp, seen };
}

const stateOf = async (id: number) => (await t.api('GET', `/reservations/${id}`)).body as { state: string; endReason: string | null; noShow: boolean };

describe('reservations at an OCPP 2.0.1 station', () => {
  it('reserves an EVSE with 2.0.1 ReserveNow, keeps other cards off it, and is used when its driver starts', async () => {
    t = await boot();
    const { cp, seen } = await reservingStation('ST1');
    const ann = await driver(t, 'ann', 'ANN-1');
    await driver(t, 'bob', 'BOB-1');

    const made = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'ST1', connectorId: 1 } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ enforcement: 'charger', state: 'active' });
    expect(seen.reserved).toEqual([{ id: made.body.id, expiryDateTime: made.body.expiresAt, idToken: { idToken: 'ANN-1', type: 'ISO14443' }, evseId: 1 }]);
    await eventually(async () => (await t.api('GET', '/chargers')).body[0].connectors[0].status === 'Reserved');

    expect((await cp.call('Authorize', { idToken: { idToken: 'BOB-1', type: 'ISO14443' } }) as { idTokenInfo: { status: string } }).idTokenInfo.status).toBe('Invalid');
    const answer = await cp.call('TransactionEvent', {
      eventType: 'Started', timestamp: now(), triggerReason: 'Authorized', seqNo: 0, reservationId: made.body.id,
      transactionInfo: { transactionId: 'st1-tx-1' }, evse: { id: 1, connectorId: 1 }, idToken: { idToken: 'ANN-1', type: 'ISO14443' },
    }) as { idTokenInfo: { status: string } };
    expect(answer.idTokenInfo.status).toBe('Accepted');
    await eventually(async () => (await stateOf(made.body.id)).state === 'used');
  });

  it('cancels with 2.0.1 CancelReservation', async () => {
    t = await boot();
    const { seen } = await reservingStation('ST1');
    const ann = await driver(t, 'ann', 'ANN-1');
    const made = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'ST1', connectorId: 1 } });
    const gone = await t.api('DELETE', `/reservations/${made.body.id}`, { token: ann.token });
    expect(gone.body).toMatchObject({ state: 'cancelled', chargerAnswer: 'Accepted' });
    expect(seen.cancelled).toEqual([made.body.id]);
  });

  it('ends a reservation the station drops: Expired as expired, Removed as cancelled by the station', async () => {
    t = await boot();
    const { cp } = await reservingStation('ST1', 2);
    const ann = await driver(t, 'ann', 'ANN-1');
    const bob = await driver(t, 'bob', 'BOB-1');
    const first = (await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'ST1', connectorId: 1 } })).body;
    const second = (await t.api('POST', '/reservations', { token: bob.token, body: { chargerId: 'ST1', connectorId: 2 } })).body;

    const ended = t.waitFor('reservation.ended', (e) => e.id === first.id);
    expect(await cp.call('ReservationStatusUpdate', { reservationId: first.id, reservationUpdateStatus: 'Expired' })).toEqual({});
    expect(await ended).toMatchObject({ state: 'expired', userId: ann.id });
    expect(await stateOf(first.id)).toMatchObject({ state: 'expired', noShow: true, endReason: 'its time was up at ST1' });

    await cp.call('ReservationStatusUpdate', { reservationId: second.id, reservationUpdateStatus: 'Removed' });
    await eventually(async () => (await stateOf(second.id)).state === 'cancelled');
    expect(await stateOf(second.id)).toMatchObject({ noShow: false, endReason: 'ST1 removed it' });
    // The first one ended once: a repeat changes nothing.
    await cp.call('ReservationStatusUpdate', { reservationId: first.id, reservationUpdateStatus: 'Removed' });
    await t.app.bus.idle();
    expect(t.seen('reservation.ended').filter((e) => e.id === first.id)).toHaveLength(1);
  });

  it('ignores a station naming another charger\'s reservation', async () => {
    t = await boot();
    await reservingStation('ST1');
    const { cp: other } = await reservingStation('ST2');
    const ann = await driver(t, 'ann', 'ANN-1');
    const made = (await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'ST1', connectorId: 1 } })).body;
    await other.call('ReservationStatusUpdate', { reservationId: made.id, reservationUpdateStatus: 'Expired' });
    await t.app.bus.idle();
    expect(t.seen('reservation.status')).toEqual([expect.objectContaining({ chargerId: 'ST2', reservationId: made.id })]);
    expect((await stateOf(made.id)).state).toBe('active');
  });

  it('starts and stops a driver\'s session remotely with RequestStartTransaction and RequestStopTransaction', async () => {
    t = await boot();
    const { cp } = await reservingStation('ST1');
    const ann = await driver(t, 'ann', 'ANN-1');
    const asked: Array<[string, unknown]> = [];
    cp.handle('RequestStartTransaction', ({ params }) => {
      asked.push(['start', params]);
      // Like a station: accept, then start the transaction for the token, naming the remote start.
      setTimeout(() => void sendTx(cp, { eventType: 'Started', transactionId: 'remote-tx-9', seqNo: 0, timestamp: now(), idTag: params.idToken.idToken, evseId: params.evseId, triggerReason: 'RemoteStart' }), 5);
      return { status: 'Accepted' };
    });
    cp.handle('RequestStopTransaction', ({ params }) => { asked.push(['stop', params]); return { status: 'Accepted' }; });

    const start = await t.api('POST', '/reservations/start', { token: ann.token, body: { chargerId: 'ST1', connectorId: 1 } });
    expect(start.status, JSON.stringify(start.body)).toBe(200);
    const session = await t.waitFor('session.started', (e) => e.chargerId === 'ST1');
    const stop = await t.api('POST', '/reservations/stop', { token: ann.token, body: { transactionId: session.transactionId } });
    expect(stop.status, JSON.stringify(stop.body)).toBe(200);
    expect(asked).toEqual([
      ['start', { idToken: { idToken: 'ANN-1', type: 'ISO14443' }, remoteStartId: expect.any(Number), evseId: 1 }],
      ['stop', { transactionId: 'remote-tx-9' }],
    ]);
  });
});
