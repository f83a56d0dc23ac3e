import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../../../tests/kit/index.js';
import { active, energyReading, findings, MIN, withDiagnostics } from '../test-kit.js';

let t: TestApp;
const apps = useApp();

describe('energy-stall check', () => {
  it('raises when a Charging connector\'s energy register stays flat for energyStallAfter and clears when it rises', async () => {
    t = await apps.start(withDiagnostics({ energyStallAfter: '10m' }));
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG', meterStart: 5000, timestamp: t.clock.iso() }) as { transactionId: number };
    await cp.call('StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError' });
    await cp.call('MeterValues', energyReading(t, transactionId, 5000, { powerW: 0 }));
    for (let i = 0; i < 3; i += 1) {
      await t.clock.advance(3 * MIN);
      await cp.call('MeterValues', energyReading(t, transactionId, 5000, { powerW: 0 }));
    }
    expect(await active(t, 'energy-stall')).toEqual([]);
    await t.clock.advance(2 * MIN);
    const [f] = await active(t, 'energy-stall', 'CP1');
    expect(f).toMatchObject({ connectorId: 1, severity: 'warning' });
    expect(f!.message).toMatch(/Connector 1 of CP1 reports Charging, but its energy register has stayed at 5\.000 kWh for over 10 min\. Likely cause: no energy flows .*contactor did not close/);
    // More flat readings: still one finding.
    await cp.call('MeterValues', energyReading(t, transactionId, 5000, { powerW: 0 }));
    await t.clock.advance(MIN);
    expect(await findings(t, { check: 'energy-stall' })).toHaveLength(1);

    await cp.call('MeterValues', energyReading(t, transactionId, 5100, { powerW: 7000 }));
    expect(await findings(t, { check: 'energy-stall' })).toEqual([expect.objectContaining({ id: f!.id, state: 'cleared' })]);
  });

  it('blames the charger\'s meter when power flows but the register does not count, and clears when charging ends', async () => {
    t = await apps.start(withDiagnostics({ energyStallAfter: '10m' }));
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG', meterStart: 0, timestamp: t.clock.iso() }) as { transactionId: number };
    await cp.call('StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError' });
    await cp.call('MeterValues', energyReading(t, transactionId, 0, { powerW: 11000 }));
    await t.clock.advance(11 * MIN);
    const [f] = await active(t, 'energy-stall', 'CP1');
    expect(f!.cause).toMatch(/energy meter does not count it/);
    await cp.call('StatusNotification', { connectorId: 1, status: 'SuspendedEV', errorCode: 'NoError' });
    expect(await active(t, 'energy-stall')).toEqual([]);
  });

  it('does not flag a connector that is not Charging', async () => {
    t = await apps.start(withDiagnostics({ energyStallAfter: '10m' }));
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    await cp.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });
    await cp.call('MeterValues', { connectorId: 1, meterValue: [{ timestamp: t.clock.iso(), sampledValue: [{ value: '100' }] }] });
    await t.clock.advance(30 * MIN);
    expect(await findings(t, { check: 'energy-stall' })).toEqual([]);
  });
});
