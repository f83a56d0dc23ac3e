import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../kit/index.js';

let t: TestApp;
const apps = useApp();

const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();

describe('messages sent late or twice', () => {
  it('stores a StopTransaction queued while offline at its own timestamp', async () => {
    t = await apps.start();
    const cp = await t.chargePoint('LATE1');
    await cp.boot();
    const startedAt = hoursAgo(5);
    const stoppedAt = hoursAgo(3);
    const sampledAt = [hoursAgo(4), hoursAgo(3.5)];
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'T1', meterStart: 0, timestamp: startedAt }) as { transactionId: number };
    await cp.call('MeterValues', { connectorId: 1, transactionId, meterValue: [{ timestamp: sampledAt[0], sampledValue: [{ value: '5000' }] }] });
    await cp.call('StopTransaction', {
      transactionId, meterStop: 11000, timestamp: stoppedAt, reason: 'PowerLoss',
      transactionData: [{ timestamp: sampledAt[1], sampledValue: [{ value: '9000' }] }],
    });
    const tx = (await t.api('GET', `/transactions/${transactionId}`)).body;
    expect(tx).toMatchObject({ startedAt, stoppedAt, energyWh: 11000, stopReason: 'PowerLoss' });
    expect(tx.meterValues.map((v: { at: string; value: number }) => [v.at, v.value])).toEqual([[sampledAt[0], 5000], [sampledAt[1], 9000]]);
  });

  it('gives a resent StartTransaction the same transaction and ignores a resent StopTransaction', async () => {
    t = await apps.start();
    let cp = await t.chargePoint('DUP1');
    await cp.boot();
    const start = { connectorId: 2, idTag: 'T2', meterStart: 100, timestamp: hoursAgo(1) };
    const first = await cp.call('StartTransaction', start) as { transactionId: number };
    await cp.close({ code: 1000 });
    cp = await t.chargePoint('DUP1'); // reconnect, resend the queued messages
    const again = await cp.call('StartTransaction', start) as { transactionId: number };
    expect(again.transactionId).toBe(first.transactionId);
    const stop = { transactionId: first.transactionId, meterStop: 600, timestamp: hoursAgo(0.5) };
    await cp.call('StopTransaction', stop);
    await cp.call('StopTransaction', { ...stop, meterStop: 999, timestamp: new Date().toISOString() });
    const txs = (await t.api('GET', '/transactions?chargerId=DUP1')).body;
    expect(txs).toHaveLength(1);
    expect(txs[0]).toMatchObject({ energyWh: 500, meterStopWh: 600, stoppedAt: stop.timestamp });
    expect(t.seen('session.started')).toHaveLength(1);
    expect(t.seen('session.stopped')).toHaveLength(1);
  });

  it('does not store a resent MeterValues twice', async () => {
    t = await apps.start();
    const cp = await t.chargePoint('MV1');
    await cp.boot();
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'T3', meterStart: 0, timestamp: hoursAgo(1) }) as { transactionId: number };
    const mv = { connectorId: 1, transactionId, meterValue: [{ timestamp: hoursAgo(0.5), sampledValue: [
      { value: '1000' }, { value: '230.1', measurand: 'Voltage', phase: 'L1', unit: 'V' }, { value: '16', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
    ] }] };
    await cp.call('MeterValues', mv);
    await cp.call('MeterValues', mv);
    const rows = await t.app.db('meter_values').where({ transaction_id: transactionId });
    expect(rows).toHaveLength(3);
  });

  it('links MeterValues without a transactionId to the open session of that connector', async () => {
    t = await apps.start();
    const cp = await t.chargePoint('MV2');
    await cp.boot();
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'T4', meterStart: 0, timestamp: hoursAgo(1) }) as { transactionId: number };
    const sampled = t.waitFor('meter.sampled', (e) => e.chargerId === 'MV2');
    await cp.call('MeterValues', { connectorId: 1, meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: '2.5', unit: 'kWh' }, { value: '11', unit: 'kW', measurand: 'Power.Active.Import' }] }] });
    expect(await sampled).toMatchObject({ source: 'ocpp', transactionId, energyImportWh: 2500, powerW: 11000 });
  });
});
