import { describe, expect, it } from 'vitest';
import { baseConfig, type TestApp, useApp } from '../../../tests/kit/index.js';
import { errorCodes } from '../error-codes.js';
import { active, findings, settled, withDiagnostics } from '../test-kit.js';

let t: TestApp;
const apps = useApp();

const status = (connectorId: number, s: string, errorCode = 'NoError', extra: Record<string, string> = {}) =>
  ({ connectorId, status: s, errorCode, ...extra });

describe('connector-fault check', () => {
  it('explains every OCPP 1.6 error code in words when a connector reports Faulted, one finding at a time', async () => {
    t = await apps.start(withDiagnostics());
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const codes = Object.keys(errorCodes);
    expect(codes).toHaveLength(16);
    for (const code of codes) {
      await cp.call('StatusNotification', status(1, 'Faulted', code, code === 'OtherError' ? { vendorErrorCode: 'E-42', info: 'relay driver' } : {}));
      const now = await active(t, 'connector-fault', 'CP1');
      expect(now, code).toHaveLength(1);
      const f = now[0]!;
      expect(f).toMatchObject({ connectorId: 1, subKey: code, severity: errorCodes[code]!.severity });
      expect(f.message).toContain(`Connector 1 of CP1 is faulted: ${errorCodes[code]!.label} (${code}`);
      expect(f.message).toContain(`Likely cause: ${errorCodes[code]!.cause}`);
      expect(f.action).toBe(errorCodes[code]!.action);
    }
    const other = (await findings(t, { check: 'connector-fault' })).find((f) => f.subKey === 'OtherError')!;
    expect(other.message).toMatch(/vendor error code E-42, info "relay driver"/);
    const ground = (await findings(t, { check: 'connector-fault' })).find((f) => f.subKey === 'GroundFailure')!;
    expect(ground).toMatchObject({ severity: 'critical', state: 'cleared' });
    expect(ground.message).toMatch(/ground fault.*RCD/);

    await cp.call('StatusNotification', status(1, 'Available'));
    expect(await active(t, 'connector-fault')).toEqual([]);
    expect(await findings(t, { check: 'connector-fault' })).toHaveLength(16);
  });

  it('keeps one finding across repeated Faulted messages and counts them', async () => {
    t = await apps.start(withDiagnostics());
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const raised: unknown[] = [];
    t.app.bus.onAny((name, p) => { if (name === 'finding.raised') raised.push(p); });
    for (let i = 0; i < 3; i += 1) await cp.call('StatusNotification', status(2, 'Faulted', 'HighTemperature'));
    const list = await findings(t, { check: 'connector-fault' });
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ state: 'active', occurrences: 3, severity: 'critical', connectorId: 2 });
    expect(raised).toHaveLength(1);
  });

  it('warns about an error code on a connector that is not Faulted, and treats connector 0 as the whole charger', async () => {
    t = await apps.start(withDiagnostics());
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    await cp.call('StatusNotification', status(1, 'Available', 'WeakSignal'));
    await cp.call('StatusNotification', status(0, 'Faulted', 'UnderVoltage'));
    const list = await active(t, 'connector-fault', 'CP1');
    expect(list.map((f) => [f.connectorId, f.subKey, f.severity])).toEqual(expect.arrayContaining([[1, 'WeakSignal', 'warning'], [0, 'UnderVoltage', 'critical']]));
    expect(list.find((f) => f.connectorId === 1)!.message).toMatch(/reports weak wireless signal \(WeakSignal\) while Available; it can still be used/);
    expect(list.find((f) => f.connectorId === 0)!.message).toMatch(/Charger CP1 \(as a whole, connector 0\) is faulted: under-voltage/);
    await cp.call('StatusNotification', status(1, 'Available'));
    expect((await active(t, 'connector-fault', 'CP1')).map((f) => f.connectorId)).toEqual([0]);
  });

  it('keeps a fault across a restart and re-evaluates it at start from the stored connector status', async () => {
    t = await apps.start(withDiagnostics());
    let cp = await t.chargePoint('CP1');
    await cp.boot();
    await cp.call('StatusNotification', status(1, 'Faulted', 'GroundFailure'));
    const [before] = await active(t, 'connector-fault');
    await t.restart();
    expect(await active(t, 'connector-fault')).toEqual([expect.objectContaining({ id: before!.id, subKey: 'GroundFailure', occurrences: 1 })]);

    // The charger recovers while diagnostics is switched off…
    await t.restart({ ...baseConfig(), plugins: {} });
    cp = await t.chargePoint('CP1');
    await cp.boot();
    await cp.call('StatusNotification', status(1, 'Available'));
    await settled(t);
    // …and the next start clears the stale finding.
    await t.restart({ ...baseConfig(), plugins: { diagnostics: {} } });
    expect(await findings(t, { check: 'connector-fault' })).toEqual([expect.objectContaining({ id: before!.id, state: 'cleared' })]);
  });
});
