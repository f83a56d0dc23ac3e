import { describe, expect, it } from 'vitest';
import { costOf, createTariff, driver, runSession } from '../../plugins/billing/test-kit.js';
import { active } from '../../plugins/diagnostics/test-kit.js';
import { createTag, eventually, type TestApp, useApp } from '../kit/index.js';
import { authorize, boot, status, tx } from './day-kit.js';
import { connectStation, type Station } from './station.js';

let t: TestApp;
const apps = useApp();
const MIN = 60_000;

/** The appliance as a site runs it: every plugin a station's day touches. */
const site = () => apps.start({
  config: {
    ocpp: { unknownChargers: 'pending' },
    plugins: { users: {}, billing: { currency: 'EUR' }, reservations: {}, diagnostics: {}, alerts: { channels: [] }, fleet: { checkEvery: '200ms' } },
  },
});

/** A station the operator has approved: Pending at first, then Accepted once the approval's TriggerMessage made it boot again. */
async function approvedStation(id: string): Promise<Station> {
  const st = await connectStation(t, id);
  let triggered = 0;
  st.handle('TriggerMessage', (p) => {
    if (p.requestedMessage === 'BootNotification') triggered += 1;
    return { status: 'Accepted' };
  });
  expect((await boot(st)).status).toBe('Pending');
  expect((await t.api('POST', `/chargers/${id}/approve`, { body: {} })).status).toBe(200);
  await eventually(() => triggered === 1);
  expect(await boot(st, 'Triggered')).toEqual({ status: 'Accepted', interval: expect.any(Number), currentTime: expect.any(String) });
  return st;
}

const connectors = async (id: string) =>
  ((await t.api('GET', `/chargers/${id}`)).body.connectors as Array<{ connectorId: number; status: string }>).map((c) => [c.connectorId, c.status]);

describe('a day of an OCPP 2.0.1 station built on typed-ocpp', () => {
  it('boots, is approved, reports its EVSEs, authorizes cards and charges a session billed like the same session on 1.6', async () => {
    t = await site();
    await createTariff(t, { name: 'Standard', pricePerKwh: 0.30, sessionFee: 1.00, pricePerMinute: 0.02, vatPct: 19 });
    const anna = await driver(t, 'anna');
    await createTag(t, { idTag: 'ANNA-IOP', userId: anna.id });
    const st = await approvedStation('IOP-DAY');
    expect((await t.api('GET', '/chargers/IOP-DAY')).body).toMatchObject({ protocol: 'ocpp2.0.1', approved: true, vendor: 'Interop', model: 'IOP-22', serialNumber: 'SN-IOP-DAY' });

    await status(st, 1, 'Available', t.clock.iso());
    await status(st, 2, 'Available', t.clock.iso());
    expect(await connectors('IOP-DAY')).toEqual([[1, 'Available'], [2, 'Available']]);
    expect(await authorize(st, 'ANNA-IOP')).toBe('Accepted');
    expect(await authorize(st, 'NOBODY-KNOWS-ME')).toBe('Unknown');

    // Plugged in, charged for 90 minutes with a reading every 30, unplugged.
    const start = t.clock.iso();
    await status(st, 1, 'Occupied', start);
    const started = await tx(st, { eventType: 'Started', transactionId: 'IOP-TX-1', seqNo: 0, timestamp: start, evseId: 1, idToken: 'ANNA-IOP', wh: 1000 });
    expect(started.idTokenInfo?.status).toBe('Accepted');
    expect(await connectors('IOP-DAY')).toEqual([[1, 'Charging'], [2, 'Available']]);
    const samples: Array<{ at: string; wh: number }> = [];
    for (const [seqNo, wh] of [[1, 5000], [2, 9000]] as const) {
      await t.clock.advance(30 * MIN);
      samples.push({ at: t.clock.iso(), wh });
      expect(await tx(st, { eventType: 'Updated', transactionId: 'IOP-TX-1', seqNo, timestamp: t.clock.iso(), wh })).toEqual({});
    }
    await t.clock.advance(30 * MIN);
    const stop = t.clock.iso();
    const stopped = t.waitFor('session.stopped', (e) => e.chargerId === 'IOP-DAY');
    await tx(st, { eventType: 'Ended', transactionId: 'IOP-TX-1', seqNo: 3, timestamp: stop, wh: 13345, stoppedReason: 'EVDisconnected' });
    await status(st, 1, 'Available', stop);
    const session = await stopped;
    expect(session).toMatchObject({ idTag: 'ANNA-IOP', userId: anna.id, meterStartWh: 1000, meterStopWh: 13345, energyWh: 12345, startedAt: start, stoppedAt: stop, reason: 'EVDisconnected' });

    // The same session from our own 1.6 kit costs the same.
    const cp16 = await t.chargePoint('CP16');
    await cp16.boot();
    expect((await t.api('POST', '/chargers/CP16/approve', { body: {} })).status).toBe(200);
    expect((await cp16.boot()).status).toBe('Accepted');
    const id16 = await runSession(cp16, { idTag: 'ANNA-IOP', start, stop, meterStart: 1000, meterStop: 13345, samples });
    const cost = await costOf(t, session.transactionId);
    expect(cost.amount).not.toBe('0.00');
    expect(cost).toEqual(await costOf(t, id16));
    expect(st.violations).toEqual([]);
  });

  it('replays a session run offline in seqNo order at its own times, and reports a fault as a finding and an alert', async () => {
    t = await site();
    await createTariff(t, { name: 'Standard', pricePerKwh: 0.25, sessionFee: 0, pricePerMinute: 0, vatPct: 0 });
    const bob = await driver(t, 'bob');
    await createTag(t, { idTag: 'BOB-IOP', userId: bob.id });
    let st = await approvedStation('IOP-OFF');
    await status(st, 2, 'Available', t.clock.iso());

    // The network goes down; the station lets Bob charge (its local cache) and queues what it would have sent.
    await st.close();
    const at: string[] = [];
    for (let i = 0; i < 4; i++) { at.push(t.clock.iso()); await t.clock.advance(20 * MIN); }
    const queue = [
      { eventType: 'Started', seqNo: 0, timestamp: at[0]!, evseId: 2, idToken: 'BOB-IOP', wh: 20_000 },
      { eventType: 'Updated', seqNo: 1, timestamp: at[1]!, wh: 22_000 },
      { eventType: 'Updated', seqNo: 2, timestamp: at[2]!, wh: 24_000 },
      { eventType: 'Ended', seqNo: 3, timestamp: at[3]!, wh: 26_000, stoppedReason: 'Local' },
    ] as const;
    st = await connectStation(t, 'IOP-OFF');
    expect((await boot(st, 'PowerUp')).status).toBe('Accepted');
    for (const e of queue) await tx(st, { ...e, transactionId: 'IOP-OFF-1', offline: true });

    const txId = t.seen('session.started').find((e) => e.chargerId === 'IOP-OFF')!.transactionId;
    expect(await t.app.db('transactions').where({ id: txId }).first()).toMatchObject({
      charger_id: 'IOP-OFF', connector_id: 2, started_at: at[0], stopped_at: at[3], meter_start_wh: 20_000, meter_stop_wh: 26_000, energy_wh: 6000, stop_reason: 'Local',
    });
    expect(await t.app.db('meter_values').where({ transaction_id: txId }).orderBy('at').pluck('at')).toEqual(at);
    const events = await t.app.db('ocpp201_transaction_events').where({ charger_id: 'IOP-OFF' }).orderBy('id').select('seq_no', 'offline', 'charger_time');
    expect(events.map((e: { seq_no: number; offline: number; charger_time: string }) => [e.seq_no, Boolean(e.offline), e.charger_time])).toEqual(queue.map((e) => [e.seqNo, true, e.timestamp]));
    expect(await t.app.db('charger_messages').where({ charger_id: 'IOP-OFF', action: 'TransactionEvent.seqGap' }).pluck('id')).toEqual([]);
    expect((await costOf(t, txId)).amount).toBe('1.50');

    // EVSE 2 breaks: the status first, then the event with the station's own code.
    await status(st, 2, 'Faulted', t.clock.iso());
    await st.call('NotifyEvent', {
      generatedAt: t.clock.iso(), seqNo: 0,
      eventData: [{
        eventId: 1, timestamp: t.clock.iso(), trigger: 'Delta', actualValue: 'Faulted', techCode: 'RCD-TRIP', techInfo: 'residual current 32 mA',
        eventNotificationType: 'HardWiredNotification', component: { name: 'Connector', evse: { id: 2, connectorId: 1 } }, variable: { name: 'AvailabilityState' },
      }],
    });
    const [finding] = await eventually(async () => {
      const list = await active(t, 'connector-fault', 'IOP-OFF');
      return list.length ? list : null;
    }) as Awaited<ReturnType<typeof active>>;
    // The station's own code reaches the finding, as a 1.6 vendorErrorCode does.
    expect(finding).toMatchObject({ chargerId: 'IOP-OFF', connectorId: 2, detail: expect.objectContaining({ errorCode: 'OtherError' }) });
    expect(JSON.stringify(finding)).toContain('RCD-TRIP');
    const alerts = await eventually(async () => {
      const list = (await t.api('GET', '/alerts')).body as Array<{ kind: string; chargerId: string; connectorId: number | null }>;
      return list.some((a) => a.kind === 'connector-fault') ? list : null;
    });
    expect(alerts!.find((a) => a.kind === 'connector-fault')).toMatchObject({ chargerId: 'IOP-OFF', connectorId: 2 });
    expect(st.violations).toEqual([]);
  });
});
