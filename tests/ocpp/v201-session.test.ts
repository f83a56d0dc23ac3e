import { describe, expect, it } from 'vitest';
import { costOf, createTariff, driver, runSession, withBilling } from '../../plugins/billing/test-kit.js';
import { createTag, eventually, type TestApp, useApp } from '../kit/index.js';
import { boot201, sendTx, station } from './v201-kit.js';

/** How many rows a query finds (PostgreSQL counts as a string). */
const rows = async (q: { count(c: { n: string }): PromiseLike<Array<Record<string, unknown>>> }) => Number((await q.count({ n: '*' }))[0]?.n);

let t: TestApp;
const apps = useApp();

describe('an OCPP 2.0.1 charging station', () => {
  it('boots Pending until an operator approves it, then Accepted, with the same charger fields as a 1.6 charger', async () => {
    t = await apps.start({ config: { ocpp: { unknownChargers: 'pending' } } });
    const cp = await station(t, 'ST-BOOT');
    const triggered: unknown[] = [];
    cp.handle('TriggerMessage', ({ params }) => { triggered.push(params); return { status: 'Accepted' }; });
    const first = await boot201(cp);
    expect(first.status).toBe('Pending');
    expect(first.interval).toBeLessThanOrEqual(60);
    // Pending: nothing but boot, heartbeat and notifications.
    await expect(cp.call('Authorize', { idToken: { idToken: 'AA', type: 'ISO14443' } })).rejects.toMatchObject({ rpcErrorCode: 'SecurityError' });
    expect((await t.api('POST', '/chargers/ST-BOOT/approve', { body: {} })).status).toBe(200);
    // The approval asks it to boot again at once, in 2.0.1 words.
    await eventually(() => triggered.length === 1);
    expect(triggered[0]).toEqual({ requestedMessage: 'BootNotification' });
    const booted = t.waitFor('charger.booted', (e) => e.chargerId === 'ST-BOOT' && e.status === 'Accepted');
    const second = await boot201(cp, 'Triggered');
    expect(second).toEqual({ status: 'Accepted', interval: 300, currentTime: expect.any(String) });
    expect(await booted).toMatchObject({ vendor: 'Vendor201', model: 'Model201', serialNumber: 'SN-ST-BOOT', firmwareVersion: '2.0.1-fw' });
    const list = (await t.api('GET', '/chargers')).body as Array<Record<string, unknown>>;
    expect(list.find((c) => c.id === 'ST-BOOT')).toMatchObject({
      protocol: 'ocpp2.0.1', online: true, approved: true, vendor: 'Vendor201', model: 'Model201', firmwareVersion: '2.0.1-fw',
    });
    const detail = (await t.api('GET', '/chargers/ST-BOOT')).body;
    expect(detail).toMatchObject({ serialNumber: 'SN-ST-BOOT', iccid: '8949', imsi: '262', bootStatus: 'Accepted', protocol: 'ocpp2.0.1' });
    expect(await cp.call('Heartbeat', {})).toEqual({ currentTime: expect.any(String) });
    const row = await t.app.db('chargers').where({ id: 'ST-BOOT' }).first('protocol');
    expect(row.protocol).toBe('ocpp2.0.1');
  });

  it('reports connector statuses as the neutral ones, EVSE id as connector id', async () => {
    t = await apps.start();
    const cp = await station(t, 'ST-STATUS');
    await boot201(cp);
    const at = '2026-12-01T10:00:00.000Z';
    const status = (connectorStatus: string, evseId = 1, timestamp = at) => cp.call('StatusNotification', { timestamp, connectorStatus, evseId, connectorId: 1 });
    const ev = t.waitFor('connector.status', (e) => e.chargerId === 'ST-STATUS' && e.connectorId === 2);
    await status('Available', 2);
    expect(await ev).toMatchObject({ status: 'Available', errorCode: 'NoError', chargerTime: at });
    await status('Occupied', 1, '2026-12-01T10:01:00.000Z');
    await status('Faulted', 3, '2026-12-01T10:02:00.000Z');
    const connectors = (await t.api('GET', '/chargers/ST-STATUS')).body.connectors as Array<Record<string, unknown>>;
    expect(connectors.map((c) => [c.connectorId, c.status, c.errorCode])).toEqual([
      [1, 'Preparing', 'NoError'], [2, 'Available', 'NoError'], [3, 'Faulted', 'OtherError'],
    ]);
    const stored = await t.app.db('connectors').where({ charger_id: 'ST-STATUS', connector_id: 2 }).first('evse_connector_id');
    expect(stored.evse_connector_id).toBe(1);
  });

  it('answers Authorize from the users plugin: a known card Accepted, one no one knows Unknown', async () => {
    t = await apps.start(withBilling());
    const { idTag } = await driver(t, 'anna');
    await createTag(t, { idTag: 'BLOCKED-1', status: 'Blocked' });
    const cp = await station(t, 'ST-AUTH');
    await boot201(cp);
    const auth = (idToken: string, type = 'ISO14443') => cp.call('Authorize', { idToken: { idToken, type } }) as Promise<{ idTokenInfo: { status: string } }>;
    const presented = t.waitFor('token.presented', (e) => e.idTag === idTag);
    expect((await auth(idTag)).idTokenInfo).toEqual({ status: 'Accepted' });
    expect(await presented).toMatchObject({ chargerId: 'ST-AUTH', context: 'Authorize', known: true });
    // idTokens are case-insensitive, like the users plugin's cards.
    expect((await auth(idTag.toLowerCase(), 'ISO15693')).idTokenInfo.status).toBe('Accepted');
    expect((await auth('NOBODY-99')).idTokenInfo).toEqual({ status: 'Unknown' });
    expect((await auth('BLOCKED-1', 'KeyCode')).idTokenInfo.status).toBe('Blocked');
    // NoAuthorization names no one: ocpp.freeVend (true here) decides, no card is looked up.
    expect((await auth('', 'NoAuthorization')).idTokenInfo.status).toBe('Accepted');
    expect(t.seen('token.presented').some((e) => e.idTag === '')).toBe(false);
  });

  it('prices a whole Started/Updated/Ended session exactly like the same session on a 1.6 charger', async () => {
    t = await apps.start(withBilling());
    await createTariff(t, { name: 'Standard', pricePerKwh: 0.30, sessionFee: 1.00, pricePerMinute: 0.02, vatPct: 19 });
    const anna = await driver(t, 'anna');
    await createTag(t, { idTag: 'ANNA-201', userId: anna.id });
    const cp16 = await t.chargePoint('CP16');
    await cp16.boot();
    const cp = await station(t, 'ST201');
    await boot201(cp);
    const start = '2026-12-02T10:00:00.000Z';
    const stop = '2026-12-02T11:30:00.000Z';
    const samples = [
      { at: '2026-12-02T10:30:00.000Z', wh: 5000, w: 7400 },
      { at: '2026-12-02T11:00:00.000Z', wh: 9000, w: 7400 },
    ];
    const id16 = await runSession(cp16, { idTag: anna.idTag, start, stop, meterStart: 1000, meterStop: 13345, samples });

    const started = t.waitFor('session.started', (e) => e.chargerId === 'ST201');
    const a = await sendTx(cp, {
      eventType: 'Started', transactionId: 'tx-0001', seqNo: 0, timestamp: start, idTag: 'ANNA-201', evseId: 1,
      readings: [{ at: start, wh: 1000, context: 'Transaction.Begin' }], chargingState: 'Charging',
    });
    expect(a.idTokenInfo).toEqual({ status: 'Accepted' });
    const s = await started;
    expect(s).toMatchObject({ connectorId: 1, idTag: 'ANNA-201', userId: anna.id, meterStartWh: 1000, startedAt: start, idTagInfo: { status: 'Accepted' } });
    expect(t.seen('connector.status').filter((e) => e.chargerId === 'ST201').pop()).toMatchObject({ status: 'Charging', connectorId: 1 });
    expect((await t.api('GET', '/chargers/ST201')).body.openTransactions).toMatchObject([{ id: s.transactionId, connectorId: 1, meterStartWh: 1000, chargerTransactionId: 'tx-0001' }]);
    expect(await sendTx(cp, { eventType: 'Updated', transactionId: 'tx-0001', seqNo: 1, timestamp: samples[0]!.at, readings: [samples[0]!] })).toEqual({});
    await sendTx(cp, { eventType: 'Updated', transactionId: 'tx-0001', seqNo: 2, timestamp: samples[1]!.at, readings: [samples[1]!] });
    const stopped = t.waitFor('session.stopped', (e) => e.chargerId === 'ST201');
    await sendTx(cp, {
      eventType: 'Ended', transactionId: 'tx-0001', seqNo: 3, timestamp: stop, triggerReason: 'EVDeparted', stoppedReason: 'EVDisconnected',
      readings: [{ at: stop, wh: 13345, context: 'Transaction.End' }],
    });
    expect(await stopped).toMatchObject({
      transactionId: s.transactionId, connectorId: 1, idTag: 'ANNA-201', userId: anna.id,
      meterStartWh: 1000, meterStopWh: 13345, energyWh: 12345, startedAt: start, stoppedAt: stop, reason: 'EVDisconnected',
    });
    const stopped16 = t.seen('session.stopped').find((e) => e.transactionId === id16)!;
    expect(stopped16).toMatchObject({ meterStartWh: 1000, meterStopWh: 13345, energyWh: 12345, reason: 'EVDisconnected' });

    const cost16 = await costOf(t, id16);
    const cost201 = await costOf(t, s.transactionId);
    expect(cost16.amount).not.toBe('0.00');
    expect(cost201).toEqual(cost16);
    const list = (await t.api('GET', '/transactions?state=closed')).body as Array<Record<string, unknown>>;
    const pick = (id: number) => { const x = list.find((r) => r.id === id)!; return [x.energyWh, x.startedAt, x.stoppedAt, x.stopReason, x.userId]; };
    expect(pick(s.transactionId)).toEqual(pick(id16));
    // The readings are the session's, in SI units, as the 1.6 ones.
    const readings = await t.app.db('meter_values').where({ transaction_id: s.transactionId, measurand: 'Energy.Active.Import.Register' }).orderBy('at').pluck('value');
    expect(readings).toEqual([1000, 5000, 9000, 13345]);
    expect((await t.api('GET', '/chargers/ST201')).body.openTransactions).toEqual([]);
  });

  it('replays an offline queue in order: a resent seqNo changes nothing, a missing one is recorded', async () => {
    t = await apps.start(withBilling());
    const anna = await driver(t, 'anna');
    let cp = await station(t, 'ST-OFF');
    await boot201(cp);
    const t0 = '2026-12-03T08:00:00.000Z';
    const first = await sendTx(cp, { eventType: 'Started', transactionId: 'q-1', seqNo: 0, timestamp: t0, idTag: anna.idTag, evseId: 2, readings: [{ at: t0, wh: 500 }] });
    // The answer to Started was lost: the charger sends it again after reconnecting.
    const again = await sendTx(cp, { eventType: 'Started', transactionId: 'q-1', seqNo: 0, timestamp: t0, idTag: anna.idTag, evseId: 2, readings: [{ at: t0, wh: 500 }] });
    expect(again).toEqual(first);
    expect(t.seen('session.started').filter((e) => e.chargerId === 'ST-OFF')).toHaveLength(1);
    expect(t.seen('token.presented').filter((e) => e.chargerId === 'ST-OFF')).toHaveLength(1);
    await cp.close({ code: 1000 });

    // Offline for an hour, then the queue, oldest first, each at its own time.
    cp = await station(t, 'ST-OFF');
    await boot201(cp);
    const at = (m: number) => new Date(Date.parse(t0) + m * 60_000).toISOString();
    await sendTx(cp, { eventType: 'Updated', transactionId: 'q-1', seqNo: 1, timestamp: at(15), offline: true, readings: [{ at: at(15), wh: 2000 }] });
    await sendTx(cp, { eventType: 'Updated', transactionId: 'q-1', seqNo: 1, timestamp: at(15), offline: true, readings: [{ at: at(15), wh: 2000 }] });
    // seqNo 2 never arrives.
    await sendTx(cp, { eventType: 'Updated', transactionId: 'q-1', seqNo: 3, timestamp: at(45), offline: true, readings: [{ at: at(45), wh: 5000 }] });
    await sendTx(cp, { eventType: 'Ended', transactionId: 'q-1', seqNo: 4, timestamp: at(60), offline: true, stoppedReason: 'Local', readings: [{ at: at(60), wh: 6500 }] });
    await sendTx(cp, { eventType: 'Ended', transactionId: 'q-1', seqNo: 4, timestamp: at(60), offline: true, stoppedReason: 'Local', readings: [{ at: at(60), wh: 6500 }] });

    const txId = t.seen('session.started').find((e) => e.chargerId === 'ST-OFF')!.transactionId;
    const tx = await t.app.db('transactions').where({ id: txId }).first();
    expect(tx).toMatchObject({ charger_id: 'ST-OFF', connector_id: 2, started_at: t0, stopped_at: at(60), meter_start_wh: 500, meter_stop_wh: 6500, energy_wh: 6000, stop_reason: 'Local' });
    expect(await rows(t.app.db('transactions').where({ charger_id: 'ST-OFF' }))).toBe(1);
    expect(await t.app.db('meter_values').where({ transaction_id: txId }).pluck('value')).toEqual([500, 2000, 5000, 6500]);
    expect(t.seen('session.stopped').filter((e) => e.chargerId === 'ST-OFF')).toHaveLength(1);
    const gaps = await t.app.db('charger_messages').where({ charger_id: 'ST-OFF', action: 'TransactionEvent.seqGap' }).pluck('payload');
    expect(gaps.map((g: string) => JSON.parse(g))).toEqual([{ transactionId: 'q-1', seqNo: 3, expected: 2 }]);
    expect(t.logs.some((l) => l.includes('has seqNo 3, expected 2'))).toBe(true);
    const events = await t.app.db('ocpp201_transaction_events').where({ charger_id: 'ST-OFF' }).orderBy('id').select('seq_no', 'offline');
    expect(events.map((e: { seq_no: number; offline: number }) => [e.seq_no, Boolean(e.offline)])).toEqual([[0, false], [1, true], [3, true], [4, true]]);
  });

  it('never touches another charger\'s session, whatever transactionId a charger names', async () => {
    t = await apps.start();
    const a = await station(t, 'ST-A');
    const b = await station(t, 'ST-B');
    await boot201(a);
    await boot201(b);
    const t0 = '2026-12-04T09:00:00.000Z';
    await sendTx(a, { eventType: 'Started', transactionId: 'TX-SHARED', seqNo: 0, timestamp: t0, idTag: 'CARD-A', evseId: 1, readings: [{ at: t0, wh: 100 }] });
    const aTx = t.seen('session.started').find((e) => e.chargerId === 'ST-A')!.transactionId;
    // B names A's transactionId, and A's integer session id as a string: neither is B's.
    for (const ref of ['TX-SHARED', String(aTx)]) {
      await sendTx(b, { eventType: 'Updated', transactionId: ref, seqNo: 1, timestamp: '2026-12-04T09:10:00.000Z', evseId: 1, readings: [{ at: '2026-12-04T09:10:00.000Z', wh: 99_999 }] });
      await sendTx(b, { eventType: 'Ended', transactionId: ref, seqNo: 2, timestamp: '2026-12-04T09:20:00.000Z', stoppedReason: 'Remote', readings: [{ at: '2026-12-04T09:20:00.000Z', wh: 99_999 }] });
    }
    const row = await t.app.db('transactions').where({ id: aTx }).first();
    expect(row).toMatchObject({ charger_id: 'ST-A', stopped_at: null, meter_stop_wh: null });
    expect(await t.app.db('meter_values').where({ transaction_id: aTx }).pluck('value')).toEqual([100]);
    expect(t.seen('session.stopped')).toEqual([]);
    expect(await rows(t.app.db('charger_messages').where({ charger_id: 'ST-B', action: 'TransactionEvent.unknown' }))).toBe(4);
    // The same string started by B is B's own session, and ending it leaves A's open.
    await sendTx(b, { eventType: 'Started', transactionId: 'TX-SHARED', seqNo: 3, timestamp: '2026-12-04T09:30:00.000Z', idTag: 'CARD-B', evseId: 1 });
    await sendTx(b, { eventType: 'Ended', transactionId: 'TX-SHARED', seqNo: 4, timestamp: '2026-12-04T09:40:00.000Z' });
    const stoppedB = t.seen('session.stopped');
    expect(stoppedB).toHaveLength(1);
    expect(stoppedB[0]).toMatchObject({ chargerId: 'ST-B', idTag: 'CARD-B' });
    expect(stoppedB[0]!.transactionId).not.toBe(aTx);
    expect((await t.app.db('transactions').where({ id: aTx }).first()).stopped_at).toBeNull();
  });

  it('opens a session that starts at plug-in when its card is presented, meter start from the first register reading', async () => {
    t = await apps.start(withBilling());
    const anna = await driver(t, 'anna');
    const cp = await station(t, 'ST-PLUGIN');
    await boot201(cp);
    const at = (m: number) => new Date(Date.parse('2026-12-05T07:00:00.000Z') + m * 60_000).toISOString();
    // Cable in: the transaction starts without a token and without a reading.
    expect(await sendTx(cp, { eventType: 'Started', transactionId: 'p-1', seqNo: 0, timestamp: at(0), triggerReason: 'CablePluggedIn', evseId: 1, chargingState: 'EVConnected' })).toEqual({});
    expect(t.seen('session.started')).toEqual([]);
    const started = t.waitFor('session.started', (e) => e.chargerId === 'ST-PLUGIN');
    const auth = await sendTx(cp, { eventType: 'Updated', transactionId: 'p-1', seqNo: 1, timestamp: at(1), triggerReason: 'Authorized', idTag: anna.idTag, readings: [{ at: at(1), wh: 40_000 }] });
    expect(auth.idTokenInfo).toEqual({ status: 'Accepted' });
    expect(await started).toMatchObject({ idTag: anna.idTag, userId: anna.id, startedAt: at(0), meterStartWh: 40_000, connectorId: 1 });
    await sendTx(cp, { eventType: 'Updated', transactionId: 'p-1', seqNo: 2, timestamp: at(30), readings: [{ at: at(30), wh: 43_000 }] });
    // Ended without a Transaction.End reading: the last reading closes it.
    const stopped = t.waitFor('session.stopped', (e) => e.chargerId === 'ST-PLUGIN');
    await sendTx(cp, { eventType: 'Ended', transactionId: 'p-1', seqNo: 3, timestamp: at(31), stoppedReason: 'ImmediateReset' });
    expect(await stopped).toMatchObject({ meterStartWh: 40_000, meterStopWh: 43_000, energyWh: 3000, reason: 'HardReset', idTag: anna.idTag, userId: anna.id });
    const tx = await t.app.db('transactions').where({ charger_id: 'ST-PLUGIN' }).first();
    expect(tx).toMatchObject({ id_tag: anna.idTag, user_id: anna.id, start_status: 'Accepted', meter_start_wh: 40_000, energy_wh: 3000 });
    // Its readings reached the bus with the session's id once the session was open.
    const withTx = t.seen('meter.sampled').filter((e) => e.chargerId === 'ST-PLUGIN' && e.transactionId === tx.id).map((e) => e.energyImportWh);
    expect(withTx).toEqual([40_000, 43_000]);
  });

  it('closes a session started before a restart of the appliance, and answers a resend of its start as before', async () => {
    t = await apps.start();
    let cp = await station(t, 'ST-RESTART');
    await boot201(cp);
    const t0 = '2026-12-06T18:00:00.000Z';
    const first = await sendTx(cp, { eventType: 'Started', transactionId: 'r-1', seqNo: 0, timestamp: t0, idTag: 'CARD-R', evseId: 1, readings: [{ at: t0, wh: 10 }] });
    const txId = t.seen('session.started')[0]!.transactionId;
    await t.restart();
    cp = await station(t, 'ST-RESTART');
    await boot201(cp);
    expect(await sendTx(cp, { eventType: 'Started', transactionId: 'r-1', seqNo: 0, timestamp: t0, idTag: 'CARD-R', evseId: 1, readings: [{ at: t0, wh: 10 }] })).toEqual(first);
    // Seen events are kept across the restart: still the one start.
    expect(t.seen('session.started')).toHaveLength(1);
    const stopped = t.waitFor('session.stopped');
    await sendTx(cp, { eventType: 'Ended', transactionId: 'r-1', seqNo: 1, timestamp: '2026-12-06T19:00:00.000Z', readings: [{ at: '2026-12-06T19:00:00.000Z', wh: 7010, context: 'Transaction.End' }] });
    expect(await stopped).toMatchObject({ transactionId: txId, energyWh: 7000, reason: 'Local' });
    expect(await rows(t.app.db('transactions'))).toBe(1);
  });

  it('takes a transactionId started again after its session closed as a new session, leaving the closed one as billed', async () => {
    t = await apps.start();
    const cp = await station(t, 'ST-REUSE');
    await boot201(cp);
    const at = (h: number) => `2026-12-07T0${h}:00:00.000Z`;
    await sendTx(cp, { eventType: 'Started', transactionId: '1', seqNo: 0, timestamp: at(1), idTag: 'CARD-1', evseId: 1, readings: [{ at: at(1), wh: 0 }] });
    await sendTx(cp, { eventType: 'Ended', transactionId: '1', seqNo: 1, timestamp: at(2), readings: [{ at: at(2), wh: 5000 }] });
    // After a factory reset it numbers transactions from 1 again, seqNo from 0.
    await sendTx(cp, { eventType: 'Started', transactionId: '1', seqNo: 0, timestamp: at(5), idTag: 'CARD-2', evseId: 1, readings: [{ at: at(5), wh: 100 }] });
    await sendTx(cp, { eventType: 'Updated', transactionId: '1', seqNo: 1, timestamp: at(6), readings: [{ at: at(6), wh: 2100 }] });
    const [first, second] = t.seen('session.started');
    expect(second).toMatchObject({ idTag: 'CARD-2', meterStartWh: 100, startedAt: at(5) });
    expect(second!.transactionId).not.toBe(first!.transactionId);
    expect(await t.app.db('transactions').where({ id: first!.transactionId }).first()).toMatchObject({ energy_wh: 5000, stopped_at: at(2) });
    expect(await t.app.db('meter_values').where({ transaction_id: first!.transactionId }).pluck('value')).toEqual([0, 5000]);
    expect(await t.app.db('meter_values').where({ transaction_id: second!.transactionId }).pluck('value')).toEqual([100, 2100]);
  });
});
