import { describe, expect, it } from 'vitest';
import { sendErrorOf } from '../../core/ocpp/send-error.js';
import { createTag, type TestApp, type TestChargePoint, useApp } from '../kit/index.js';
import { boot201, sendTx, station } from './v201-kit.js';

const by = { actor: 'plugin:test' };
const now = () => new Date().toISOString();

/** A booted 1.6 charger and a booted 2.0.1 station, each recording what it is sent by "<id>:<action>"; a reply may be (chargerId, nth call) => reply. */
async function pair(t: TestApp, replies: Record<string, unknown>): Promise<{ old: TestChargePoint; modern: TestChargePoint; got: Record<string, unknown[]> }> {
  const got: Record<string, unknown[]> = {};
  const old = await t.chargePoint('CP16');
  await old.boot();
  const modern = await station(t, 'CS201');
  await boot201(modern);
  for (const cp of [old, modern]) {
    for (const [action, reply] of Object.entries(replies)) {
      cp.handle(action, ({ params }) => {
        const calls = (got[`${cp.id}:${action}`] ??= []);
        calls.push(params);
        return typeof reply === 'function' ? (reply as (id: string, n: number) => unknown)(cp.id, calls.length - 1) : reply;
      });
    }
  }
  return { old, modern, got };
}

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e);

describe('session commands: one call, each charger in its own version', () => {
  const apps = useApp();

  it('starts remotely as 1.6 RemoteStartTransaction or 2.0.1 RequestStartTransaction with a fresh remoteStartId each time', async () => {
    const t = await apps.start();
    const { got } = await pair(t, { RemoteStartTransaction: { status: 'Accepted' }, RequestStartTransaction: { status: 'Rejected' } });
    const start = t.app.core.chargers.commands.remoteStart;
    expect(await start('CP16', { connectorId: 2, idTag: 'CARD-1' }, by)).toEqual({ accepted: true, status: 'Accepted' });
    expect(await start('CP16', { idTag: 'CARD-1' }, by)).toEqual({ accepted: true, status: 'Accepted' });
    expect(got['CP16:RemoteStartTransaction']).toEqual([{ connectorId: 2, idTag: 'CARD-1' }, { idTag: 'CARD-1' }]);

    expect(await start('CS201', { connectorId: 1, idTag: 'CARD-1' }, by)).toEqual({ accepted: false, status: 'Rejected' });
    expect(await start('CS201', { idTag: 'PIN-1', idTokenType: 'KeyCode' }, by)).toEqual({ accepted: false, status: 'Rejected' });
    const [first, second] = got['CS201:RequestStartTransaction'] as Array<{ remoteStartId: number }>;
    expect(first).toEqual({ idToken: { idToken: 'CARD-1', type: 'ISO14443' }, remoteStartId: expect.any(Number), evseId: 1 });
    expect(second).toEqual({ idToken: { idToken: 'PIN-1', type: 'KeyCode' }, remoteStartId: expect.any(Number) });
    expect(Number.isInteger(first!.remoteStartId) && first!.remoteStartId > 0).toBe(true);
    expect(second!.remoteStartId).not.toBe(first!.remoteStartId);
  });

  it('checks the card of a remote start on both versions before the charger hears of it', async () => {
    const t = await apps.start({ config: { plugins: { users: {} } } });
    const { got } = await pair(t, { RemoteStartTransaction: { status: 'Accepted' }, RequestStartTransaction: { status: 'Accepted' } });
    await createTag(t, { idTag: 'GOOD-1' });
    await createTag(t, { idTag: 'BLOCKED-1', status: 'Blocked' });
    for (const id of ['CP16', 'CS201']) {
      const refused = await failure(t.app.core.chargers.commands.remoteStart(id, { connectorId: 1, idTag: 'BLOCKED-1' }, by));
      expect(sendErrorOf(refused)?.kind, id).toBe('refused');
      expect((refused as Error).message).toMatch(new RegExp(`^card BLOCKED-1 is not accepted at ${id} \\(Blocked\\)`));
      expect(await t.app.core.chargers.commands.remoteStart(id, { connectorId: 1, idTag: 'GOOD-1' }, by)).toEqual({ accepted: true, status: 'Accepted' });
    }
    expect(got['CP16:RemoteStartTransaction']).toEqual([{ connectorId: 1, idTag: 'GOOD-1' }]);
    expect(got['CS201:RequestStartTransaction']).toEqual([expect.objectContaining({ idToken: { idToken: 'GOOD-1', type: 'ISO14443' } })]);
  });

  it('stops a session by the core\'s id: 1.6 gets that id, 2.0.1 its own transactionId string', async () => {
    const t = await apps.start();
    const { old, modern, got } = await pair(t, { RemoteStopTransaction: { status: 'Accepted' }, RequestStopTransaction: { status: 'Rejected' } });
    const { transactionId: s16 } = await old.call('StartTransaction', { connectorId: 1, idTag: 'CARD-1', meterStart: 0, timestamp: now() }) as { transactionId: number };
    const started = t.waitFor('session.started', (e) => e.chargerId === 'CS201');
    await sendTx(modern, { eventType: 'Started', transactionId: 'tx-abc-1', seqNo: 0, timestamp: now(), idTag: 'CARD-2', evseId: 1 });
    const s201 = (await started).transactionId;

    const stop = t.app.core.chargers.commands.remoteStop;
    expect(await stop('CP16', { sessionId: s16 }, by)).toEqual({ accepted: true, status: 'Accepted' });
    expect(await stop('CS201', { sessionId: s201 }, by)).toEqual({ accepted: false, status: 'Rejected' });
    expect(got['CP16:RemoteStopTransaction']).toEqual([{ transactionId: s16 }]);
    expect(got['CS201:RequestStopTransaction']).toEqual([{ transactionId: 'tx-abc-1' }]);
  });

  it('refuses to stop a session of another charger, an unknown one or one that has stopped, naming sessionId', async () => {
    const t = await apps.start();
    const { old, modern, got } = await pair(t, { RemoteStopTransaction: { status: 'Accepted' }, RequestStopTransaction: { status: 'Accepted' } });
    const { transactionId: s16 } = await old.call('StartTransaction', { connectorId: 1, idTag: 'CARD-1', meterStart: 0, timestamp: now() }) as { transactionId: number };
    const { transactionId: done } = await old.call('StartTransaction', { connectorId: 2, idTag: 'CARD-1', meterStart: 0, timestamp: now() }) as { transactionId: number };
    await old.call('StopTransaction', { transactionId: done, meterStop: 10, timestamp: now() });
    const started = t.waitFor('session.started', (e) => e.chargerId === 'CS201');
    await sendTx(modern, { eventType: 'Started', transactionId: 'tx-x', seqNo: 0, timestamp: now(), idTag: 'CARD-2', evseId: 1 });
    const s201 = (await started).transactionId;

    const stop = t.app.core.chargers.commands.remoteStop;
    for (const [chargerId, sessionId] of [['CS201', s16], ['CP16', s201], ['CP16', done], ['CP16', 99_999]] as const) {
      const e = await failure(stop(chargerId, { sessionId }, by));
      expect(sendErrorOf(e)?.kind, `${chargerId} ${sessionId}`).toBe('invalid');
      expect((e as { fields: unknown }).fields).toEqual([{ field: 'sessionId', message: `session ${sessionId} is not a running session of ${chargerId}` }]);
    }
    expect(got).toEqual({});
  });

  it('unlocks connector n as 1.6 connector n or 2.0.1 EVSE n, and reads both answers as unlocked or not', async () => {
    const t = await apps.start();
    const words: Record<string, string[]> = { CP16: ['Unlocked', 'NotSupported'], CS201: ['Unlocked', 'OngoingAuthorizedTransaction'] };
    const { got } = await pair(t, { UnlockConnector: (cp: string, n: number) => ({ status: words[cp]![n] }) });
    const unlock = t.app.core.chargers.commands.unlock;
    expect(await unlock('CP16', { connectorId: 2 }, by)).toEqual({ unlocked: true, status: 'Unlocked' });
    expect(await unlock('CP16', { connectorId: 1 }, by)).toEqual({ unlocked: false, status: 'NotSupported' });
    expect(await unlock('CS201', { connectorId: 2 }, by)).toEqual({ unlocked: true, status: 'Unlocked' });
    expect(await unlock('CS201', { connectorId: 1 }, by)).toEqual({ unlocked: false, status: 'OngoingAuthorizedTransaction' });
    expect(got['CP16:UnlockConnector']).toEqual([{ connectorId: 2 }, { connectorId: 1 }]);
    expect(got['CS201:UnlockConnector']).toEqual([{ evseId: 2, connectorId: 1 }, { evseId: 1, connectorId: 1 }]);
  });

  it('reserves and cancels as 1.6 or 2.0.1 ReserveNow and CancelReservation; connector 0 names no EVSE', async () => {
    const t = await apps.start();
    const { got } = await pair(t, {
      ReserveNow: (cp: string, n: number) => ({ status: cp === 'CP16' || n === 0 ? 'Accepted' : 'Occupied' }),
      CancelReservation: { status: 'Accepted' },
    });
    const { reserve, cancelReservation } = t.app.core.chargers.commands;
    const expiresAt = new Date(Date.now() + 600_000).toISOString();
    expect(await reserve('CP16', { reservationId: 7, connectorId: 1, idTag: 'CARD-1', parentIdTag: 'FLEET', expiresAt }, by)).toEqual({ accepted: true, status: 'Accepted' });
    expect(await reserve('CS201', { reservationId: 8, connectorId: 2, idTag: 'CARD-1', parentIdTag: 'FLEET', expiresAt }, by)).toEqual({ accepted: true, status: 'Accepted' });
    expect(await reserve('CS201', { reservationId: 9, connectorId: 0, idTag: 'CARD-1', expiresAt }, by)).toEqual({ accepted: false, status: 'Occupied' });
    expect(got['CP16:ReserveNow']).toEqual([{ connectorId: 1, expiryDate: expiresAt, idTag: 'CARD-1', parentIdTag: 'FLEET', reservationId: 7 }]);
    expect(got['CS201:ReserveNow']).toEqual([
      { id: 8, expiryDateTime: expiresAt, idToken: { idToken: 'CARD-1', type: 'ISO14443' }, evseId: 2, groupIdToken: { idToken: 'FLEET', type: 'Central' } },
      { id: 9, expiryDateTime: expiresAt, idToken: { idToken: 'CARD-1', type: 'ISO14443' } },
    ]);
    for (const id of ['CP16', 'CS201']) expect(await cancelReservation(id, { reservationId: 7 }, by)).toEqual({ accepted: true, status: 'Accepted' });
    expect([got['CP16:CancelReservation'], got['CS201:CancelReservation']]).toEqual([[{ reservationId: 7 }], [{ reservationId: 7 }]]);
  });

  it('turns a 2.0.1 ReservationStatusUpdate into reservation.status for that station', async () => {
    const t = await apps.start();
    const { modern } = await pair(t, {});
    const seen = t.waitFor('reservation.status');
    expect(await modern.call('ReservationStatusUpdate', { reservationId: 12, reservationUpdateStatus: 'Expired' })).toEqual({});
    expect(await seen).toMatchObject({ chargerId: 'CS201', reservationId: 12, status: 'expired' });
    const removed = t.waitFor('reservation.status', (e) => e.reservationId === 13);
    await modern.call('ReservationStatusUpdate', { reservationId: 13, reservationUpdateStatus: 'Removed' });
    expect(await removed).toMatchObject({ chargerId: 'CS201', status: 'removed' });
  });

  it('refuses a command the charger\'s version lacks, and a 2.0.1 stop of a session begun over 1.6', async () => {
    const t = await apps.start();
    const { old, got } = await pair(t, { RemoteStopTransaction: { status: 'Accepted' } });
    const { transactionId } = await old.call('StartTransaction', { connectorId: 1, idTag: 'CARD-1', meterStart: 0, timestamp: now() }) as { transactionId: number };
    await old.close();
    // The same charger comes back speaking 2.0.1 with the 1.6 session still open: it has no name for it there.
    const again = await station(t, 'CP16');
    await boot201(again);
    const e = await failure(t.app.core.chargers.commands.remoteStop('CP16', { sessionId: transactionId }, by));
    expect(sendErrorOf(e)?.kind).toBe('invalid');
    expect((e as Error).message).toMatch(/has no transactionId there/);
    expect(got).toEqual({});
  });
});
