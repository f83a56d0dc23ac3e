import { describe, expect, it } from 'vitest';
import { eventually, type TestApp, useApp } from '../../tests/kit/index.js';
import type { ProbeResult } from './probes.js';
import { active, findings, MIN, tokenFor, withDiagnostics } from './test-kit.js';

let t: TestApp;
const apps = useApp();

type ChargePoint = Awaited<ReturnType<TestApp['chargePoint']>>;

/** A charger that answers the probe like a healthy one: triggers accepted (and carried out), its settings reported. */
function healthy(cp: ChargePoint): void {
  cp.handle('TriggerMessage', ({ params }: { params: { requestedMessage: string } }) => {
    setTimeout(() => {
      const msg = params.requestedMessage === 'Heartbeat'
        ? cp.call('Heartbeat', {})
        : cp.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });
      msg.catch(() => undefined);
    }, 5);
    return { status: 'Accepted' };
  });
  cp.handle('GetConfiguration', () => ({
    configurationKey: [
      { key: 'HeartbeatInterval', readonly: false, value: '300' },
      { key: 'MeterValueSampleInterval', readonly: false, value: '0' },
      { key: 'AuthorizationCacheEnabled', readonly: false, value: 'true' },
      { key: 'LocalAuthListEnabled', readonly: false, value: 'true' },
    ],
    unknownKey: ['WebSocketPingInterval'],
  }));
}

describe('maintenance probes', () => {
  it('runs diagnostics now on a charger and answers the probe result with its settings, stored for later', async () => {
    t = await apps.start(withDiagnostics({ probeTimeout: '2s' }));
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    healthy(cp);
    const tech = await tokenFor(t, 'technician');
    const status = t.waitFor('connector.status', (e) => e.chargerId === 'CP1');
    const res = await t.api<ProbeResult>('POST', '/diagnostics/chargers/CP1/run', { token: tech });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      chargerId: 'CP1', trigger: 'diag-technician', outcome: 'ok',
      configuration: { HeartbeatInterval: '300', MeterValueSampleInterval: '0', AuthorizationCacheEnabled: 'true' },
      unknownKeys: ['WebSocketPingInterval'],
    });
    expect(res.body.steps.map((s) => [s.action, s.outcome])).toEqual([['TriggerMessage', 'answered'], ['TriggerMessage', 'answered'], ['GetConfiguration', 'answered']]);
    expect(res.body.notes.join(' ')).toMatch(/MeterValueSampleInterval = 0/);
    await status;
    const stored = await t.api<ProbeResult[]>('GET', '/diagnostics/probes?chargerId=CP1', { token: await tokenFor(t, 'viewer') });
    expect(stored.body).toEqual([expect.objectContaining({ id: res.body.id, outcome: 'ok' })]);
    expect((await t.api('GET', '/diagnostics/probes?chargerId=CP2')).body).toEqual([]);
  });

  it('raises unresponsive for a connected charger that never answers the probe, and clears it when a scheduled probe is answered', async () => {
    t = await apps.start(withDiagnostics({ probeTimeout: '1s', maintenanceInterval: '1h' }));
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    // The charger's OCPP stack hangs: it takes calls but never replies.
    cp.handle('TriggerMessage', () => new Promise(() => undefined));
    cp.handle('GetConfiguration', () => new Promise(() => undefined));
    const res = await t.api<ProbeResult>('POST', '/diagnostics/chargers/CP1/run');
    expect(res.body.outcome).toBe('unresponsive');
    expect(res.body.steps.map((s) => s.outcome)).toEqual(['timeout', 'skipped', 'skipped']);
    const [f] = await active(t, 'unresponsive', 'CP1');
    expect(f).toMatchObject({ severity: 'critical' });
    expect(f!.message).toMatch(/connected but did not answer the maintenance probe \(TriggerMessage got no reply within 1 s\)/);
    // The scheduled probe an hour later: still hung, still one finding.
    await t.clock.advance(61 * MIN);
    expect(await findings(t, { check: 'unresponsive' })).toHaveLength(1);
    expect((await t.api<ProbeResult[]>('GET', '/diagnostics/probes?chargerId=CP1')).body.map((p) => p.trigger)).toEqual(['schedule', 'admin']);

    healthy(cp);
    await t.clock.advance(30 * MIN);
    expect(await active(t, 'unresponsive')).toHaveLength(1);
    await t.clock.advance(31 * MIN);
    expect(await findings(t, { check: 'unresponsive' })).toEqual([expect.objectContaining({ id: f!.id, state: 'cleared' })]);
  });

  it('probes a charger again soon after it reboots while flagged unresponsive', async () => {
    t = await apps.start(withDiagnostics({ probeTimeout: '1s', maintenanceInterval: '24h' }));
    const hung = await t.chargePoint('CP1');
    await hung.boot();
    hung.handle('TriggerMessage', () => new Promise(() => undefined));
    await t.api('POST', '/diagnostics/chargers/CP1/run');
    expect(await active(t, 'unresponsive', 'CP1')).toHaveLength(1);
    const gone = t.waitFor('charger.disconnected');
    await hung.close({ code: 1000, force: true });
    await gone;
    const rebooted = await t.chargePoint('CP1');
    healthy(rebooted);
    await rebooted.boot();
    await t.clock.advance(MIN);
    // The probe's calls to the charger may still be under way when the job that started them returns.
    await eventually(async () => (await active(t, 'unresponsive')).length === 0, 10_000);
    expect((await t.api<ProbeResult[]>('GET', '/diagnostics/probes?chargerId=CP1')).body[0]).toMatchObject({ trigger: 'schedule', outcome: 'ok' });
  });

  it('refuses to run on an offline or unknown charger, and lets only installers and technicians run it', async () => {
    t = await apps.start(withDiagnostics());
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    healthy(cp);
    expect((await t.api('POST', '/diagnostics/chargers/NOPE/run')).status).toBe(404);
    expect((await t.api('POST', '/diagnostics/chargers/CP1/run', { token: await tokenFor(t, 'viewer') })).status).toBe(403);
    expect((await t.api('POST', '/diagnostics/chargers/CP1/run', { token: await tokenFor(t, 'driver') })).status).toBe(403);
    expect((await t.api('GET', '/diagnostics/findings', { token: await tokenFor(t, 'driver') })).status).toBe(403);
    expect((await t.api('GET', '/diagnostics/findings', { token: null })).status).toBe(401);
    expect((await t.api('POST', '/diagnostics/chargers/CP1/run', { token: await tokenFor(t, 'installer') })).status).toBe(200);
    const gone = t.waitFor('charger.disconnected');
    await cp.close({ code: 1000 });
    await gone;
    expect((await t.api('POST', '/diagnostics/chargers/CP1/run')).status).toBe(409);
  });
});
