import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../../../tests/kit/index.js';
import { active, energyReading, findings, MIN, withDiagnostics } from '../test-kit.js';

let t: TestApp;
const apps = useApp();

describe('suspended-ev check', () => {
  it('raises when a car sits in SuspendedEV without ever drawing power, and clears when it starts charging', async () => {
    t = await apps.start(withDiagnostics({ suspendedEvAfter: '15m' }));
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG', meterStart: 2000, timestamp: t.clock.iso() }) as { transactionId: number };
    await cp.call('StatusNotification', { connectorId: 1, status: 'SuspendedEV', errorCode: 'NoError' });
    await t.clock.advance(10 * MIN);
    await cp.call('MeterValues', energyReading(t, transactionId, 2000));
    expect(await active(t, 'suspended-ev')).toEqual([]);
    await t.clock.advance(6 * MIN);
    const [f] = await active(t, 'suspended-ev', 'CP1');
    expect(f).toMatchObject({ connectorId: 1, severity: 'warning' });
    expect(f!.message).toMatch(new RegExp(`Connector 1 of CP1: a car has been connected in session ${transactionId} for over 15 min in SuspendedEV and has never drawn power\\. Likely cause: .*communication problem between car and charger`));
    await t.clock.advance(5 * MIN);
    expect(await findings(t, { check: 'suspended-ev' })).toHaveLength(1);
    await cp.call('StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError' });
    expect(await active(t, 'suspended-ev')).toEqual([]);
  });

  it('leaves a car alone that charged and then paused (a full battery)', async () => {
    t = await apps.start(withDiagnostics({ suspendedEvAfter: '15m' }));
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG', meterStart: 0, timestamp: t.clock.iso() }) as { transactionId: number };
    await cp.call('StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError' });
    await t.clock.advance(30 * MIN);
    await cp.call('MeterValues', energyReading(t, transactionId, 8000));
    await cp.call('StatusNotification', { connectorId: 1, status: 'SuspendedEV', errorCode: 'NoError' });
    await t.clock.advance(60 * MIN);
    expect(await findings(t, { check: 'suspended-ev' })).toEqual([]);
  });
});
