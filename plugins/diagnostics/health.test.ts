import { describe, expect, it } from 'vitest';
import { ChargerHistory } from '../../core/history.js';
import { type TestApp, useApp } from '../../tests/kit/index.js';
import { chargerHealth, type ChargerHealth } from './health.js';
import { settled, tokenFor, withDiagnostics } from './test-kit.js';

let t: TestApp;
const apps = useApp();

const H = 3_600_000;
// Steps take some real milliseconds on top of the moved clock; allow a few seconds.
const near = (seconds: number) => expect.toSatisfy((v: number) => Math.abs(v - seconds) <= 5, `≈ ${seconds} s`);

describe('health and availability over real OCPP traffic', () => {
  it('adds up the states of a scripted afternoon and ranks the least healthy charger first', async () => {
    t = await apps.start(withDiagnostics());
    const [a, b] = [await t.chargePoint('CP-A'), await t.chargePoint('CP-B')];
    for (const cp of [a, b]) {
      await cp.boot();
      await cp.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });
    }
    // CP-A: 1 h available, 1 h charging, 1 h faulted (ground fault), 1 h available.
    await t.clock.advance(H);
    await a.call('StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError' });
    await t.clock.advance(H);
    await a.call('StatusNotification', { connectorId: 1, status: 'Faulted', errorCode: 'GroundFailure' });
    await t.clock.advance(H / 2);
    // CP-B drops off the network for the second half of the third hour.
    const gone = t.waitFor('charger.disconnected');
    await b.close({ code: 1000 });
    await gone;
    await t.clock.advance(H / 2);
    await a.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });
    const b2 = await t.chargePoint('CP-B');
    await b2.boot();
    await t.clock.advance(H);
    await settled(t);

    const res = await t.api<Array<ChargerHealth & { activeFindings: number }>>('GET', '/diagnostics/health', { token: await tokenFor(t, 'viewer') });
    expect(res.status).toBe(200);
    expect(res.body.map((h) => h.chargerId)).toEqual(['CP-A', 'CP-B']);
    const [hA, hB] = res.body;
    expect(hA!.stateSeconds24h).toEqual({ available: near(2 * 3600), charging: near(3600), faulted: near(3600), offline: 0, unavailable: 0 });
    expect(hA!.availabilityPct24h).toBeCloseTo(75, 0);
    expect(hA!.availabilityPct7d).toBe(hA!.availabilityPct24h);
    expect(hA!.availabilityPct30d).toBe(hA!.availabilityPct24h);
    expect(hA!.faultCount30d).toBe(1);
    expect(hA!.mtbfHours).toBeCloseTo(3, 1);
    expect(hA!.connectors).toEqual([expect.objectContaining({ connectorId: 1, faultCount30d: 1 })]);
    expect(hB!.stateSeconds24h).toEqual({ available: near(3.5 * 3600), charging: 0, faulted: 0, offline: near(1800), unavailable: 0 });
    expect(hB!.availabilityPct24h).toBeCloseTo(87.5, 0);
    expect(hB!.faultCount30d).toBe(0);
    expect(hB!.mtbfHours).toBeNull();

    const detail = await t.api('GET', '/diagnostics/health/CP-A');
    expect(detail.body.segments24h.map((s: { state: string }) => s.state)).toEqual(['available', 'charging', 'faulted', 'available']);
    expect(detail.body.daily).toHaveLength(30);
    expect(detail.body.daily[29].availabilityPct).toBeCloseTo(75, 0);
    expect(detail.body.daily[0].availabilityPct).toBeNull();
    expect((await t.api('GET', '/diagnostics/health/NOPE')).status).toBe(404);
  });

  it('counts a charger as offline from a restart of the appliance until it reconnects', async () => {
    t = await apps.start(withDiagnostics());
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    await cp.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });
    await t.clock.advance(H);
    await t.restart();
    await t.clock.advance(2 * H);
    const [h] = (await t.api<ChargerHealth[]>('GET', '/diagnostics/health')).body;
    expect(h!.stateSeconds24h).toEqual({ available: near(3600), charging: 0, faulted: 0, offline: near(7200), unavailable: 0 });
    expect(h!.online).toBe(false);
  });

  it('counts the time the appliance was down after a power cut as offline, from when it was last alive', async () => {
    t = await apps.start(withDiagnostics());
    const db = t.app.db;
    // The appliance keeps its own run's last-alive time.
    const run = async () => (await db('diagnostics_runs').orderBy('id', 'desc').first()) as { started_at: string; alive_at: string };
    const startedAt = (await run()).started_at;
    await t.clock.advance(2 * 60_000);
    expect(Date.parse((await run()).alive_at) - Date.parse(startedAt)).toBeGreaterThanOrEqual(2 * 60_000);

    // History as a power cut leaves it: a run last alive at -3 h, its charger's socket never recorded closing.
    const now = t.clock.nowMs();
    const iso = (ms: number) => new Date(ms).toISOString();
    await db('diagnostics_runs').insert({ started_at: iso(now - 6 * H), alive_at: iso(now - 3 * H) });
    await db('chargers').insert({ id: 'CP-CUT', approved: true, registered_at: iso(now - 5 * H) });
    await db('charger_messages').insert([
      { charger_id: 'CP-CUT', action: 'connected', payload: '{}', received_at: iso(now - 5 * H) },
      { charger_id: 'CP-CUT', action: 'connected', payload: '{}', received_at: iso(Date.parse(startedAt) + 1000) },
    ]);
    const { health } = await chargerHealth(db, new ChargerHistory(db), { id: 'CP-CUT', name: null, approved: true, registeredAt: iso(now - 5 * H) }, now, true);
    // Online 2 h before the cut and since the restart; offline from the last sign of life to the restart.
    const downSeconds = (Date.parse(startedAt) - (now - 3 * H)) / 1000;
    expect(health.stateSeconds24h.offline).toBeCloseTo(downSeconds, -1);
    expect(health.stateSeconds24h.available).toBeCloseTo(5 * 3600 - downSeconds, -1);
  });
});
