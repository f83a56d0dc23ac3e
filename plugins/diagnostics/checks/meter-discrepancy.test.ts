import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../../../tests/kit/index.js';
import { active, findings, settled, withDiagnostics } from '../test-kit.js';

let t: TestApp;
const apps = useApp();

/** A reading of the Modbus meter wired in front of CP1 connector 1, as the modbus-meter adapter publishes it. */
async function siteMeter(wh: number): Promise<void> {
  t.app.bus.emit('meter.sampled', { source: 'modbus', meterId: 'cp1-meter', chargerId: 'CP1', connectorId: 1, at: t.clock.iso(), energyImportWh: wh, powerW: 7000 });
  await settled(t);
}

async function session(cp: Awaited<ReturnType<TestApp['chargePoint']>>, chargerWh: [number, number], meterWh: [number, number]): Promise<number> {
  await siteMeter(meterWh[0]);
  const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG', meterStart: chargerWh[0], timestamp: t.clock.iso() }) as { transactionId: number };
  await t.clock.advance(30 * 60_000);
  await siteMeter((meterWh[0] + meterWh[1]) / 2);
  await siteMeter(meterWh[1]);
  await cp.call('StopTransaction', { transactionId, meterStop: chargerWh[1], timestamp: t.clock.iso() });
  return transactionId;
}

describe('meter-discrepancy check', () => {
  it('raises when the charger\'s session energy and its site meter differ beyond meterTolerancePct, and clears after a session that agrees', async () => {
    t = await apps.start(withDiagnostics({ meterTolerancePct: 3 }));
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    // Charger: 5.000 kWh; site meter: 5.500 kWh → -9.1 %.
    const tx = await session(cp, [1000, 6000], [200_000, 205_500]);
    const [f] = await active(t, 'meter-discrepancy', 'CP1');
    expect(f).toMatchObject({ connectorId: 1, severity: 'warning', detail: expect.objectContaining({ chargerWh: 5000, meterWh: 5500, diffPct: -9.1 }) });
    expect(f!.message).toMatch(new RegExp(`counted 5\\.000 kWh in session ${tx}, but site meter cp1-meter measured 5\\.500 kWh \\(-9\\.1 %, more than the allowed 3 %\\)\\. Likely cause: the charger's built-in meter counts too little`));

    // 10.000 vs 10.200 kWh: -2 %, within tolerance.
    await session(cp, [6000, 16_000], [205_500, 215_700]);
    expect(await findings(t, { check: 'meter-discrepancy' })).toEqual([expect.objectContaining({ id: f!.id, state: 'cleared' })]);
  });

  it('gives no verdict on sessions too small to compare', async () => {
    t = await apps.start(withDiagnostics({ meterTolerancePct: 3, meterDiscrepancyMinWh: 500 }));
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    await session(cp, [0, 100], [1000, 1300]);
    expect(await findings(t, { check: 'meter-discrepancy' })).toEqual([]);
  });
});
