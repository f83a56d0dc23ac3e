import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { eventually, type TestApp, useApp } from '../../tests/kit/index.js';
import { active, withDiagnostics } from './test-kit.js';

let t: TestApp | undefined;
const apps = useApp();

// The evaluation job is set far out: whatever is found here was found at its own deadline.
const LATE = '10m';

describe('diagnostics: conditions raised at their own deadline', () => {
  it('raises offline within offlineAfter + 1 s of the socket closing, long before the next evaluation', async () => {
    t = await apps.start(withDiagnostics({ offlineAfter: '1s', evaluateEvery: LATE }));
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const raised = t.waitFor('finding.raised', (f) => f.check === 'offline', 5000);
    const closedAt = Date.now();
    await cp.close({ code: 1000 });
    const f = await raised;
    const tookMs = Date.now() - closedAt;
    expect(f).toMatchObject({ chargerId: 'CP1', severity: 'critical' });
    expect(tookMs).toBeGreaterThanOrEqual(900);
    expect(tookMs).toBeLessThan(2000);
  });

  it('raises silent within silentAfter + 1 s of the last message, and a message in between pushes the deadline out', async () => {
    t = await apps.start(withDiagnostics({ silentAfter: '1500ms', evaluateEvery: LATE }));
    const cp = await t.chargePoint('CP2');
    await cp.boot();
    await new Promise((r) => setTimeout(r, 1000));
    await cp.call('Heartbeat', {});
    const lastAt = Date.now();
    const f = await t.waitFor('finding.raised', (x) => x.check === 'offline', 5000);
    const tookMs = Date.now() - lastAt;
    expect(f.message).toMatch(/connected but has sent nothing/);
    expect(tookMs).toBeGreaterThanOrEqual(1400);
    expect(tookMs).toBeLessThan(2500);
  });

  it('raises a stuck session within stuckTransactionAfter + 1 s of its last meter value', async () => {
    t = await apps.start(withDiagnostics({ stuckTransactionAfter: '1s', evaluateEvery: LATE }));
    const cp = await t.chargePoint('CP3');
    await cp.boot();
    const startedAt = Date.now();
    await cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG', meterStart: 0, timestamp: t.clock.iso() });
    await t.waitFor('finding.raised', (x) => x.check === 'stuck-transaction', 5000);
    expect(Date.now() - startedAt).toBeLessThan(2500);
  });

  it('closes a socket that stops answering WebSocket pings and then counts the charger offline', async () => {
    t = await apps.start({ config: { ocpp: { pingInterval: '500ms' }, plugins: { diagnostics: { offlineAfter: '1s', evaluateEvery: LATE } } } });
    // A charger whose network died without a FIN: its socket stays open but nothing answers, not even pings.
    const ws = new WebSocket(`ws://127.0.0.1:${t.port}/ocpp/CP4`, 'ocpp1.6', { autoPong: false });
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    const openedAt = Date.now();
    const gone = await t.waitFor('charger.disconnected', (e) => e.chargerId === 'CP4', 5000);
    // One ping goes unanswered until the next one is due: closed after about two intervals.
    expect(Date.now() - openedAt).toBeLessThan(2000);
    expect(gone.code).not.toBe(1000);
    await eventually(async () => (await active(t!, 'offline', 'CP4')).length === 1, 3000);
    ws.terminate();
  });
});
