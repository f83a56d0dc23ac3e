import { describe, expect, it } from 'vitest';
import { useApp } from '../../tests/kit/index.js';
import type { Availability } from './health.js';
import { settled, tokenFor, withDiagnostics } from './test-kit.js';

const apps = useApp();

const H = 3_600_000;
const near = (seconds: number) => expect.toSatisfy((v: number) => Math.abs(v - seconds) <= 5, `≈ ${seconds} s`);

describe('availability over a chosen period', () => {
  it('counts the states and faults of each connector between from and to, starting from the status before from', async () => {
    const t = await apps.start(withDiagnostics());
    const cp = await t.chargePoint('CP-R');
    await cp.boot();
    for (const connectorId of [1, 2]) await cp.call('StatusNotification', { connectorId, status: 'Available', errorCode: 'NoError' });
    await t.clock.advance(H);
    await cp.call('StatusNotification', { connectorId: 2, status: 'Faulted', errorCode: 'GroundFailure' });
    await t.clock.advance(2 * H);
    await cp.call('StatusNotification', { connectorId: 2, status: 'Available', errorCode: 'NoError' });
    await t.clock.advance(H);
    await settled(t);
    const now = t.clock.nowMs();
    const iso = (ms: number) => new Date(ms).toISOString();
    const token = await tokenFor(t, 'viewer');

    // From the middle of the fault to now: connector 2 was faulted for its first hour (the status before `from`).
    const res = await t.api<Availability>('GET', `/diagnostics/availability/CP-R?from=${encodeURIComponent(iso(now - 2 * H))}&to=${encodeURIComponent(iso(now))}`, { token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [c1, c2] = res.body.connectors;
    expect(c1!.connectorId).toBe(1);
    expect(c1!.stateSeconds.available).toEqual(near(2 * 3600));
    expect(c1!.availabilityPct).toBe(100);
    expect(c2!.stateSeconds.faulted).toEqual(near(3600));
    expect(c2!.availabilityPct).toBeCloseTo(50, 0);
    // The fault began before the period: it is not one of the period's faults.
    expect(c2!.faultCount).toBe(0);

    const whole = await t.api<Availability>('GET', `/diagnostics/availability/CP-R?from=${encodeURIComponent(iso(now - 5 * H))}`, { token });
    expect(whole.body.connectors[1]!.faultCount).toBe(1);
    expect(whole.body.faultCount).toBe(1);
  });

  it('refuses a period that ends before it begins, and an unknown charger', async () => {
    const t = await apps.start(withDiagnostics());
    const token = await tokenFor(t, 'viewer');
    await (await t.chargePoint('CP-R')).boot();
    const bad = await t.api('GET', '/diagnostics/availability/CP-R?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', { token });
    expect(bad.status).toBe(400);
    expect((await t.api('GET', '/diagnostics/availability/NOPE', { token })).status).toBe(404);
  });
});
