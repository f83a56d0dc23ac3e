import { afterEach, describe, expect, it } from 'vitest';
import { MeterSimulator } from '../../hardware-adapters/modbus-meter/simulator.js';
import { eventually, type TestApp, useApp } from '../kit/index.js';

// Eastron SDM120: import energy is a float32 in kWh at input register 0x0048.
const ENERGY_KWH = 0x0048;
let t: TestApp | undefined;
let sim: MeterSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});
// Registered after the hook above so that it runs first: the app stops before the meter it polls.
const apps = useApp();

async function boot(): Promise<void> {
  sim = await MeterSimulator.start();
  sim.setFloat(2, 'input', ENERGY_KWH, 100);
  t = await apps.start({
    config: {
      plugins: { diagnostics: { meterTolerancePct: 3 } },
      meters: [{
        id: 'cp1-meter', model: 'eastron-sdm120', modbus: { host: '127.0.0.1', port: sim.port, unitId: 2 }, timeout: '200ms',
        role: 'charger', chargerId: 'CP1', connectorId: 1, pollInterval: '100ms',
      }],
    },
  });
}

const sampled = (wh: number) => t!.waitFor('meter.sampled', (e) => e.meterId === 'cp1-meter' && e.energyImportWh === wh, 5000);

describe('a Modbus meter wired to a charger, watched by diagnostics', () => {
  it('flags a charger whose own meter disagrees with the site meter over a session', async () => {
    await boot();
    await sampled(100_000);
    const cp = await t!.chargePoint('CP1');
    await cp.boot();
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'T', meterStart: 0, timestamp: new Date().toISOString() }) as { transactionId: number };
    sim!.setFloat(2, 'input', ENERGY_KWH, 110); // the site meter measures 10 kWh
    await sampled(110_000);
    await cp.call('StopTransaction', { transactionId, meterStop: 12_000, timestamp: new Date().toISOString() }); // the charger claims 12 kWh
    const finding = (await eventually(() => t!.seen('finding.raised').find((f) => f.check === 'meter-discrepancy')))!;
    expect(finding).toMatchObject({ chargerId: 'CP1', connectorId: 1, severity: 'warning' });
    expect(finding.message).toMatch(/12\.000 kWh.*10\.000 kWh/);
    const listed = (await t!.api('GET', '/diagnostics/findings?state=active')).body;
    expect(listed).toEqual([expect.objectContaining({ check: 'meter-discrepancy', chargerId: 'CP1' })]);
  });

  it('raises meter-unreachable when the meter stops answering and clears it when it answers again', async () => {
    await boot();
    await sampled(100_000);
    sim!.silent.add(2);
    const raised = await t!.waitFor('finding.raised', (f) => f.check === 'meter-unreachable', 10_000);
    expect(raised.message).toContain('cp1-meter');
    expect((await t!.api('GET', '/meters')).body[0]).toMatchObject({ id: 'cp1-meter', online: false });
    sim!.silent.delete(2);
    await t!.waitFor('finding.cleared', (f) => f.check === 'meter-unreachable', 10_000);
    await eventually(async () => (await t!.api('GET', '/meters')).body[0].online === true);
  });
});
