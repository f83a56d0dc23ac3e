import { describe, expect, it } from 'vitest';
import { eventually, type TestApp, useApp } from '../../../tests/kit/index.js';
import { boot201, station } from '../../../tests/ocpp/v201-kit.js';
import { active } from '../test-kit.js';

let t: TestApp;
const apps = useApp();

describe('security-event check', () => {
  it('turns a tamper alarm or a failed TLS setup into a finding, leaves routine events alone, and clears after a quiet day', async () => {
    t = await apps.start({ config: { plugins: { diagnostics: { securityEventQuiet: '2h' } } } });
    const modern = await station(t, 'ST1');
    await boot201(modern);
    const old = await t.chargePoint('CP1');
    await old.boot();
    const at = new Date().toISOString();
    await modern.call('SecurityEventNotification', { type: 'StartupOfTheDevice', timestamp: at });
    await modern.call('SecurityEventNotification', { type: 'TamperDetectionActivated', timestamp: at, techInfo: 'door sensor 2' });
    await old.call('SecurityEventNotification', { type: 'InvalidCsmsCertificate', timestamp: at });

    const tamper = await eventually(async () => (await active(t, 'security-event', 'ST1'))[0]);
    expect(tamper).toMatchObject({ subKey: 'TamperDetectionActivated', severity: 'critical' });
    expect(tamper!.message).toMatch(/^Charger ST1 reported the security event TamperDetectionActivated \(door sensor 2\)\./);
    expect(await active(t, 'security-event', 'CP1')).toEqual([expect.objectContaining({ subKey: 'InvalidCsmsCertificate', severity: 'warning' })]);
    // A boot is routine: one finding per charger, not one per event.
    expect(await active(t, 'security-event')).toHaveLength(2);

    // The same event again within the quiet time keeps the finding; quiet time without it ends it.
    const minutes = 60_000;
    await t.clock.advance(90 * minutes);
    await modern.call('SecurityEventNotification', { type: 'TamperDetectionActivated', timestamp: t.clock.iso() });
    await t.clock.advance(60 * minutes);
    await eventually(async () => (await active(t, 'security-event')).length === 1);
    expect(await active(t, 'security-event', 'ST1')).toHaveLength(1);
    await t.clock.advance(70 * minutes);
    await eventually(async () => (await active(t, 'security-event')).length === 0);
  });
});
