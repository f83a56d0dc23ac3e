import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../../../tests/kit/index.js';
import { active, energyReading, findings, withDiagnostics } from '../test-kit.js';

let t: TestApp;
const apps = useApp();

async function session(cp: Awaited<ReturnType<TestApp['chargePoint']>>, start: number, readings: number[], stop: number): Promise<number> {
  const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG', meterStart: start, timestamp: t.clock.iso() }) as { transactionId: number };
  for (const wh of readings) {
    await t.clock.advance(60_000);
    await cp.call('MeterValues', energyReading(t, transactionId, wh));
  }
  await cp.call('StopTransaction', { transactionId, meterStop: stop, timestamp: t.clock.iso() });
  return transactionId;
}

describe('meter-regression check', () => {
  it('raises when the energy register goes backwards mid-session and clears after a clean session', async () => {
    t = await apps.start(withDiagnostics());
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const tx = await session(cp, 10_000, [11_000, 12_000, 11_500, 12_500], 13_000);
    const [f] = await active(t, 'meter-regression', 'CP1');
    expect(f).toMatchObject({ connectorId: 1, severity: 'critical' });
    expect(f!.message).toMatch(new RegExp(`register of connector 1 of CP1 went backwards during session ${tx}: from 12\\.000 kWh to 11\\.500 kWh\\. Likely cause: a faulty meter`));
    expect(f!.action).toMatch(/bill/);

    await session(cp, 13_000, [14_000, 15_000], 15_500);
    expect(await findings(t, { check: 'meter-regression' })).toEqual([expect.objectContaining({ id: f!.id, state: 'cleared' })]);
  });

  it('recognises a register reset to zero, also when only the stop value shows it', async () => {
    t = await apps.start(withDiagnostics());
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    await session(cp, 50_000, [51_000], 20);
    const [f] = await active(t, 'meter-regression', 'CP1');
    expect(f!.message).toMatch(/from 51\.000 kWh to 0\.020 kWh/);
    expect(f!.cause).toMatch(/reset or replaced in the middle of the session/);
  });
});
