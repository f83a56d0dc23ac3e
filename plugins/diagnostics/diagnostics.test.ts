import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decode } from '../../core/schema.js';
import { type TestApp, useApp } from '../../tests/kit/index.js';
import { checks } from './checks/index.js';
import { byHealth, type ChargerHealth } from './health.js';
import plugin from './index.js';
import { active, findings, MIN, withDiagnostics } from './test-kit.js';

let t: TestApp | undefined;
const apps = useApp();

describe('the diagnostics plugin', () => {
  it('registers every check the spec names, each with its own config keys and no key twice', () => {
    expect(Object.keys(checks).sort()).toEqual([
      'boot-loop', 'certificate-expiry', 'clock-drift', 'connector-fault', 'energy-stall', 'firmware-failed', 'flapping', 'known-firmware-bug', 'load-management', 'meter-discrepancy',
      'meter-regression', 'meter-unreachable', 'offline', 'security-event', 'stuck-transaction', 'superseded-session', 'suspended-ev', 'truncated-field', 'unresponsive',
    ]);
    const keys = Object.values(checks).flatMap((c) => Object.keys(c.config));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('takes the spec\'s example config and fills the defaults', () => {
    const { value, problems } = decode<Record<string, unknown>>(plugin.manifest.config, {
      offlineAfter: '3m', stuckTransactionAfter: '15m', energyStallAfter: '10m', bootLoop: { count: 5, within: '10m' },
      meterTolerancePct: 3, maintenanceInterval: '24h',
    });
    expect(problems).toEqual([]);
    expect(value).toMatchObject({
      offlineAfter: 180_000, stuckTransactionAfter: 900_000, energyStallAfter: 600_000, bootLoop: { count: 5, within: 600_000 },
      meterTolerancePct: 3, maintenanceInterval: 86_400_000, clockDriftMax: 300_000, probeTimeout: 30_000, checks: {},
    });
  });

  it('refuses to start with a bad section, naming each key', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'diag-config-'));
    try {
      const boot = apps.start({ dataDir, config: { plugins: { diagnostics: { offlineAfter: 'soon', checks: { 'no-such-check': { enabled: false } }, bootLoop: { count: 1 } } } } });
      const err = await boot.then(() => null, (e: unknown) => e as Error);
      expect(err?.message).toMatch(/plugins\.diagnostics\.offlineAfter: expected a duration like 90s, 15m or 2h, got "soon"/);
      expect(err?.message).toMatch(/plugins\.diagnostics\.checks\.no-such-check: unknown key; expected one of offline, flapping, connector-fault/);
      expect(err?.message).toMatch(/plugins\.diagnostics\.bootLoop\.count: expected an integer >= 2, got 1/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('lists the checks with their summaries and effective config', async () => {
    t = await apps.start(withDiagnostics({ offlineAfter: '5m', checks: { 'clock-drift': { enabled: false } } }));
    const res = await t.api('GET', '/diagnostics/checks');
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(19);
    expect(res.body.find((c: { id: string }) => c.id === 'offline')).toMatchObject({
      enabled: true, config: { offlineAfter: 300_000, silentAfter: 600_000 }, description: expect.stringMatching(/socket/),
      events: ['charger.connected', 'charger.seen', 'charger.disconnected'],
    });
    expect(res.body.find((c: { id: string }) => c.id === 'clock-drift')).toMatchObject({ enabled: false });
  });

  it('emits finding.raised and finding.cleared with the spec\'s fields, and lists active findings first, newest first', async () => {
    t = await apps.start(withDiagnostics());
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const raised = t.waitFor('finding.raised');
    await cp.call('StatusNotification', { connectorId: 1, status: 'Faulted', errorCode: 'PowerSwitchFailure' });
    expect(await raised).toEqual({
      id: expect.any(Number), check: 'connector-fault', chargerId: 'CP1', connectorId: 1, severity: 'critical',
      message: expect.stringMatching(/Likely cause:/), action: expect.any(String), cause: expect.any(String), state: 'active',
      since: expect.any(String), clearedAt: null, problem: expect.any(String), subKey: 'PowerSwitchFailure',
      updatedAt: expect.any(String), occurrences: 1, detail: expect.objectContaining({ errorCode: 'PowerSwitchFailure' }),
    });
    await cp.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });
    await t.clock.advance(MIN);
    await cp.call('StatusNotification', { connectorId: 2, status: 'Faulted', errorCode: 'ReaderFailure' });
    await t.clock.advance(MIN);
    await cp.call('StatusNotification', { connectorId: 3, status: 'Faulted', errorCode: 'OverVoltage' });
    const list = await findings(t);
    expect(list.map((f) => [f.connectorId, f.state])).toEqual([[3, 'active'], [2, 'active'], [1, 'cleared']]);
    expect(t.seen('finding.cleared')).toEqual([expect.objectContaining({ connectorId: 1, state: 'cleared', clearedAt: expect.any(String) })]);
    expect((await findings(t, { state: 'cleared' })).map((f) => f.connectorId)).toEqual([1]);
    expect(await findings(t, { chargerId: 'OTHER' })).toEqual([]);
    const bad = await t.api('GET', '/diagnostics/findings?state=open');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('state');
    expect((await t.api('GET', `/diagnostics/findings/${list[0]!.id}`)).body).toMatchObject({ id: list[0]!.id });
    expect((await t.api('GET', '/diagnostics/findings/9999')).status).toBe(404);
  });

  it('runs no disabled check and clears its old findings at start', async () => {
    t = await apps.start(withDiagnostics());
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    await cp.call('StatusNotification', { connectorId: 1, status: 'Faulted', errorCode: 'GroundFailure' });
    expect(await active(t, 'connector-fault')).toHaveLength(1);
    await t.restart({ plugins: { diagnostics: { checks: { 'connector-fault': { enabled: false } } } } });
    expect(await active(t, 'connector-fault')).toEqual([]);
    const cp2 = await t.chargePoint('CP1');
    await cp2.boot();
    await cp2.call('StatusNotification', { connectorId: 2, status: 'Faulted', errorCode: 'GroundFailure' });
    expect(await findings(t, { state: 'active' })).toEqual([]);
  });

  it('ranks chargers least healthy first', () => {
    const h = (chargerId: string, availabilityPct24h: number | null, availabilityPct30d: number | null, faultCount30d: number) =>
      ({ chargerId, availabilityPct24h, availabilityPct30d, faultCount30d }) as ChargerHealth;
    const list = [h('A', 100, 100, 0), h('B', 50, 90, 0), h('C', null, null, 0), h('D', 100, 99, 0), h('E', 100, 99, 3)];
    expect(list.sort(byHealth).map((x) => x.chargerId)).toEqual(['B', 'E', 'D', 'A', 'C']);
  });
});
