import type { OCPP16 } from 'typed-ocpp';
import { describe, expect, it } from 'vitest';
import { costOf, createTariff, driver } from '../../plugins/billing/test-kit.js';
import { active } from '../../plugins/diagnostics/test-kit.js';
import { createTag, eventually, type TestApp, useApp } from '../kit/index.js';
import { boot as boot201, tx } from './day-kit.js';
import { connectStation, type Station } from './station.js';

let t: TestApp;
const apps = useApp();
const MIN = 60_000;

const boot = (st: Station) => st.call<OCPP16.BootNotificationResponse>('BootNotification', {
  chargePointVendor: 'Interop', chargePointModel: 'IOP-16', chargePointSerialNumber: `SN-${st.id}`, firmwareVersion: '1.6-fw',
} satisfies OCPP16.BootNotificationRequest);

const status = (st: Station, connectorId: number, s: OCPP16.StatusNotificationRequest['status'], errorCode: OCPP16.StatusNotificationRequest['errorCode'] = 'NoError') =>
  st.call('StatusNotification', { connectorId, status: s, errorCode, timestamp: t.clock.iso() } satisfies OCPP16.StatusNotificationRequest);

const register = (wh: number, context: 'Transaction.Begin' | 'Sample.Periodic' | 'Transaction.End' = 'Sample.Periodic'): OCPP16.MeterValuesRequest['meterValue'][number] =>
  ({ timestamp: t.clock.iso(), sampledValue: [{ value: String(wh), context, measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] });

describe('a day of an OCPP 1.6J charge point built on typed-ocpp', () => {
  it('is approved, authorizes, charges a session priced like the same session on 2.0.1, replays its offline readings and reports a fault', async () => {
    t = await apps.start({
      config: { ocpp: { unknownChargers: 'pending' }, plugins: { users: {}, billing: { currency: 'EUR' }, diagnostics: {}, alerts: { channels: [] } } },
    });
    await createTariff(t, { name: 'Standard', pricePerKwh: 0.30, sessionFee: 1.00, pricePerMinute: 0.02, vatPct: 19 });
    const carl = await driver(t, 'carl');
    await createTag(t, { idTag: 'CARL-IOP', userId: carl.id });
    const cp = await connectStation(t, 'IOP-16', { protocols: ['ocpp1.6'] });
    expect(cp.protocol).toBe('ocpp1.6');
    let triggered = 0;
    cp.handle('TriggerMessage', (p) => { if (p.requestedMessage === 'BootNotification') triggered += 1; return { status: 'Accepted' }; });
    expect((await boot(cp)).status).toBe('Pending');
    expect((await t.api('POST', '/chargers/IOP-16/approve', { body: {} })).status).toBe(200);
    await eventually(() => triggered === 1);
    expect((await boot(cp)).status).toBe('Accepted');
    await status(cp, 1, 'Available');
    expect((await cp.call<OCPP16.AuthorizeResponse>('Authorize', { idTag: 'CARL-IOP' })).idTagInfo.status).toBe('Accepted');
    expect((await cp.call<OCPP16.AuthorizeResponse>('Authorize', { idTag: 'NOBODY-KNOWS-ME' })).idTagInfo.status).toBe('Invalid');

    // A session whose middle readings were queued offline and arrive inside StopTransaction, at their own times.
    const start = t.clock.iso();
    await status(cp, 1, 'Charging');
    const started = await cp.call<OCPP16.StartTransactionResponse>('StartTransaction', { connectorId: 1, idTag: 'CARL-IOP', meterStart: 1000, timestamp: start });
    expect(started.idTagInfo.status).toBe('Accepted');
    const queued: Array<ReturnType<typeof register>> = [];
    for (const wh of [5000, 9000]) { await t.clock.advance(30 * MIN); queued.push(register(wh)); }
    await t.clock.advance(30 * MIN);
    const stop = t.clock.iso();
    await cp.call('StopTransaction', { transactionId: started.transactionId, meterStop: 13345, timestamp: stop, reason: 'EVDisconnected', transactionData: queued });
    await status(cp, 1, 'Available');
    expect(await t.app.db('meter_values').where({ transaction_id: started.transactionId, measurand: 'Energy.Active.Import.Register' }).orderBy('at').select('at', 'value'))
      .toEqual(queued.map((m) => ({ at: m.timestamp, value: Number(m.sampledValue[0]!.value) })));

    // The same session from a typed-ocpp 2.0.1 station costs the same.
    const st = await connectStation(t, 'IOP-201');
    await boot201(st);
    expect((await t.api('POST', '/chargers/IOP-201/approve', { body: {} })).status).toBe(200);
    expect((await boot201(st, 'Triggered')).status).toBe('Accepted');
    await tx(st, { eventType: 'Started', transactionId: 'SAME-1', seqNo: 0, timestamp: start, evseId: 1, idToken: 'CARL-IOP', wh: 1000 });
    await tx(st, { eventType: 'Updated', transactionId: 'SAME-1', seqNo: 1, timestamp: queued[0]!.timestamp, wh: 5000 });
    await tx(st, { eventType: 'Updated', transactionId: 'SAME-1', seqNo: 2, timestamp: queued[1]!.timestamp, wh: 9000 });
    const ended = t.waitFor('session.stopped', (e) => e.chargerId === 'IOP-201');
    await tx(st, { eventType: 'Ended', transactionId: 'SAME-1', seqNo: 3, timestamp: stop, wh: 13345, stoppedReason: 'EVDisconnected' });
    const id201 = (await ended).transactionId;
    const cost = await costOf(t, started.transactionId);
    expect(cost.amount).not.toBe('0.00');
    expect(await costOf(t, id201)).toEqual(cost);

    await status(cp, 1, 'Faulted', 'GroundFailure');
    const [finding] = await eventually(async () => {
      const list = await active(t, 'connector-fault', 'IOP-16');
      return list.length ? list : null;
    }) as Awaited<ReturnType<typeof active>>;
    expect(finding).toMatchObject({ chargerId: 'IOP-16', connectorId: 1, subKey: 'GroundFailure' });
    await eventually(async () => ((await t.api('GET', '/alerts')).body as Array<{ kind: string; chargerId: string }>)
      .some((a) => a.kind === 'connector-fault' && a.chargerId === 'IOP-16'));
    expect([...cp.violations, ...st.violations]).toEqual([]);
  });
});
