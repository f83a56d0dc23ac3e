import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../../../tests/kit/index.js';
import { active, findings, MIN, withDiagnostics } from '../test-kit.js';

let t: TestApp;
const apps = useApp();

const shifted = (ms: number) => new Date(t.clock.nowMs() + ms).toISOString();

describe('clock-drift check', () => {
  it('raises when a charger\'s timestamps are further than clockDriftMax off and clears when its clock is right again', async () => {
    t = await apps.start(withDiagnostics({ clockDriftMax: '5m' }));
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    await cp.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError', timestamp: shifted(4 * MIN) });
    expect(await findings(t, { check: 'clock-drift' })).toEqual([]);
    await cp.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError', timestamp: shifted(-20 * MIN) });
    await cp.call('StatusNotification', { connectorId: 2, status: 'Available', errorCode: 'NoError', timestamp: shifted(-20 * MIN) });
    const [f] = await active(t, 'clock-drift', 'CP1');
    expect(f).toMatchObject({ severity: 'warning', occurrences: 2, detail: expect.objectContaining({ driftS: -1200 }) });
    expect(f!.message).toMatch(/The clock of charger CP1 is about 20 min behind.*Likely cause: the charger does not set its clock/);
    await cp.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError', timestamp: shifted(1000) });
    expect(await active(t, 'clock-drift')).toEqual([]);
  });

  it('ignores old timestamps on transaction messages, which may come late from the charger\'s queue', async () => {
    t = await apps.start(withDiagnostics({ clockDriftMax: '5m' }));
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG', meterStart: 0, timestamp: shifted(-60 * MIN) }) as { transactionId: number };
    await cp.call('StopTransaction', { transactionId, meterStop: 10, timestamp: shifted(-50 * MIN) });
    expect(await findings(t, { check: 'clock-drift' })).toEqual([]);
  });
});
