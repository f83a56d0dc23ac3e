import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../../../tests/kit/index.js';
import { active, findings, MIN, settled, withDiagnostics } from '../test-kit.js';

let t: TestApp;
const apps = useApp();

describe('offline check', () => {
  it('raises a critical finding once a charger has been disconnected for offlineAfter and clears it when it reconnects', async () => {
    t = await apps.start(withDiagnostics({ offlineAfter: '3m' }));
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const gone = t.waitFor('charger.disconnected');
    await cp.close({ code: 1000 });
    await gone;
    await settled(t);
    await t.clock.advance(2 * MIN);
    expect(await active(t, 'offline')).toEqual([]);
    const raised = t.waitFor('finding.raised', (f) => f.check === 'offline');
    await t.clock.advance(1.5 * MIN);
    expect(await raised).toMatchObject({ check: 'offline', chargerId: 'CP1', severity: 'critical', state: 'active' });
    const [f] = await active(t, 'offline');
    expect(f).toMatchObject({ chargerId: 'CP1', connectorId: null, severity: 'critical' });
    expect(f!.message).toMatch(/CP1 is offline.*Likely cause: .*power cut/);
    expect(f!.action).toMatch(/power/);
    // Later ticks keep one finding.
    await t.clock.advance(5 * MIN);
    expect(await findings(t, { check: 'offline' })).toHaveLength(1);

    const cleared = t.waitFor('finding.cleared', (x) => x.check === 'offline');
    const back = await t.chargePoint('CP1');
    await back.boot();
    expect(await cleared).toMatchObject({ id: f!.id, state: 'cleared' });
    const after = await findings(t, { check: 'offline' });
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ state: 'cleared', clearedAt: expect.any(String) });
  });

  it('flags a known charger that never connects after the appliance starts, and keeps the finding across a restart', async () => {
    t = await apps.start(withDiagnostics({ offlineAfter: '3m' }));
    const cp = await t.chargePoint('CP2');
    await cp.boot();
    await t.restart();
    await t.clock.advance(3 * MIN + 1000);
    const [f] = await active(t, 'offline', 'CP2');
    expect(f!.message).toMatch(/not connected since the appliance started/);
    await t.restart();
    // Still offline after the second restart: the same finding, not a new one.
    await t.clock.advance(4 * MIN);
    expect(await findings(t, { check: 'offline', chargerId: 'CP2' })).toEqual([expect.objectContaining({ id: f!.id, state: 'active' })]);
    const back = await t.chargePoint('CP2');
    await back.boot();
    expect(await active(t, 'offline', 'CP2')).toEqual([]);
  });

  it('flags a connected charger that stays silent for silentAfter, and clears when it speaks', async () => {
    t = await apps.start(withDiagnostics({ silentAfter: '10m' }));
    const cp = await t.chargePoint('CP3');
    await cp.boot();
    await t.clock.advance(9 * MIN);
    expect(await active(t, 'offline')).toEqual([]);
    await t.clock.advance(2 * MIN);
    const [f] = await active(t, 'offline', 'CP3');
    expect(f!.message).toMatch(/connected but has sent nothing/);
    await cp.call('Heartbeat', {});
    expect(await active(t, 'offline', 'CP3')).toEqual([]);
  });
});
