import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../../../tests/kit/index.js';
import { active, energyReading, findings, MIN, withDiagnostics } from '../test-kit.js';

let t: TestApp;
const apps = useApp();

describe('stuck-transaction check', () => {
  it('raises when an open session sends no meter values for stuckTransactionAfter and clears on the next value or the stop', async () => {
    t = await apps.start(withDiagnostics({ stuckTransactionAfter: '15m' }));
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG', meterStart: 1000, timestamp: t.clock.iso() }) as { transactionId: number };
    await t.clock.advance(10 * MIN);
    await cp.call('MeterValues', energyReading(t, transactionId, 1500));
    await t.clock.advance(10 * MIN);
    expect(await active(t, 'stuck-transaction')).toEqual([]);
    await t.clock.advance(6 * MIN);
    const [f] = await active(t, 'stuck-transaction', 'CP1');
    expect(f).toMatchObject({ connectorId: 1, subKey: String(transactionId), severity: 'warning' });
    expect(f!.message).toMatch(new RegExp(`Session ${transactionId} on connector 1 of CP1 .* no meter values for over 15 min\\. Likely cause: the charger lost track`));
    await t.clock.advance(5 * MIN);
    expect(await findings(t, { check: 'stuck-transaction' })).toHaveLength(1);

    await cp.call('MeterValues', energyReading(t, transactionId, 1600));
    expect(await active(t, 'stuck-transaction')).toEqual([]);
    await t.clock.advance(16 * MIN);
    expect(await active(t, 'stuck-transaction')).toHaveLength(1);
    await cp.call('StopTransaction', { transactionId, meterStop: 1700, timestamp: t.clock.iso() });
    expect(await active(t, 'stuck-transaction')).toEqual([]);
    expect(await findings(t, { check: 'stuck-transaction' })).toHaveLength(2);
  });

  it('picks up open sessions after a restart and clears findings of sessions that ended meanwhile', async () => {
    t = await apps.start(withDiagnostics({ stuckTransactionAfter: '15m' }));
    let cp = await t.chargePoint('CP1');
    await cp.boot();
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG', meterStart: 0, timestamp: t.clock.iso() }) as { transactionId: number };
    await t.restart();
    cp = await t.chargePoint('CP1');
    await cp.boot();
    await t.clock.advance(16 * MIN);
    const [f] = await active(t, 'stuck-transaction', 'CP1');
    expect(f!.subKey).toBe(String(transactionId));
    await t.restart();
    cp = await t.chargePoint('CP1');
    await cp.call('StopTransaction', { transactionId, meterStop: 10, timestamp: t.clock.iso() });
    expect(await findings(t, { check: 'stuck-transaction' })).toEqual([expect.objectContaining({ id: f!.id, state: 'cleared' })]);
  });
});
