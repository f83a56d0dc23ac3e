import { describe, expect, it } from 'vitest';
import { eventually, type TestApp, useApp } from '../kit/index.js';

let t: TestApp;
const apps = useApp();

describe('admitting chargers', () => {
  it('accepts and registers unknown chargers in accept mode', async () => {
    t = await apps.start({ config: { ocpp: { unknownChargers: 'accept' } } });
    const cp = await t.chargePoint('NEW1');
    expect((await cp.boot()).status).toBe('Accepted');
    const list = await t.api('GET', '/chargers');
    expect(list.body).toEqual([expect.objectContaining({ id: 'NEW1', approved: true, online: true })]);
  });

  it('answers Pending in pending mode until an operator approves, then Accepted', async () => {
    t = await apps.start({ config: { ocpp: { unknownChargers: 'pending' } } });
    const cp = await t.chargePoint('PEND1');
    const first = await cp.boot();
    expect(first.status).toBe('Pending');
    expect(first.interval).toBeLessThanOrEqual(60);
    // While pending, transactions are refused with a CALLERROR but the socket stays open.
    await expect(cp.call('Authorize', { idTag: 'X' })).rejects.toMatchObject({ rpcErrorCode: 'SecurityError' });
    expect((await t.api('GET', '/chargers')).body[0]).toMatchObject({ id: 'PEND1', approved: false });
    let triggered: unknown = null;
    cp.handle('TriggerMessage', ({ params }) => { triggered = params; return { status: 'Accepted' }; });
    const approved = await t.api('POST', '/chargers/PEND1/approve');
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ approved: true });
    await eventually(() => triggered !== null);
    expect(triggered).toEqual({ requestedMessage: 'BootNotification' });
    expect((await cp.boot()).status).toBe('Accepted');
    const audit = await t.api('GET', '/audit?action=charger.approve');
    expect(audit.body[0]).toMatchObject({ actor: 'admin', action: 'charger.approve', target: 'PEND1' });
  });

  it('refuses unknown chargers at the upgrade in reject mode but admits known ones', async () => {
    t = await apps.start({ config: { ocpp: { unknownChargers: 'accept' } } });
    await (await t.chargePoint('KNOWN')).boot();
    await t.restart({ ocpp: { unknownChargers: 'reject' } });
    await expect(t.chargePoint('STRANGER')).rejects.toThrow();
    expect(t.seen('chargers.refused')).toEqual([expect.objectContaining({ ids: ['STRANGER'], count: 1, reason: 'unknown charger' })]);
    const known = await t.chargePoint('KNOWN');
    expect((await known.boot()).status).toBe('Accepted');
    expect((await t.api('GET', '/chargers')).body.map((c: { id: string }) => c.id)).toEqual(['KNOWN']);
  });

  it('checks a security-profile-1 password at the upgrade', async () => {
    t = await apps.start();
    await (await t.chargePoint('SECURE')).boot();
    const set = await t.api('PATCH', '/chargers/SECURE', { body: { password: 'correct-horse-1' } });
    expect(set.status).toBe(200);
    const detail = await t.api('GET', '/chargers/SECURE');
    expect(detail.body.hasPassword).toBe(true);
    await expect(t.chargePoint('SECURE')).rejects.toThrow();
    await expect(t.chargePoint('SECURE', { password: 'wrong-password' })).rejects.toThrow();
    const ok = await t.chargePoint('SECURE', { password: 'correct-horse-1' });
    expect((await ok.boot()).status).toBe('Accepted');
    expect(t.seen('charger.rejected').map((e) => e.reason)).toEqual(['password required', 'wrong password']);
    // Clearing the password lets it connect without one again.
    await t.api('PATCH', '/chargers/SECURE', { body: { password: null } });
    expect((await (await t.chargePoint('SECURE')).boot()).status).toBe('Accepted');
  });

  it('refuses WebSocket upgrades outside the OCPP path', async () => {
    t = await apps.start();
    const res = await fetch(`${t.url}/not-ocpp/CP1`, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'ocpp1.6' } }).catch((e: Error) => e);
    expect(res instanceof Error || (res as Response).status === 404).toBe(true);
  });

  it('stores heartbeats and answers with the server time', async () => {
    t = await apps.start();
    const cp = await t.chargePoint('HB1');
    await cp.boot();
    const before = Date.now();
    const hb = await cp.call('Heartbeat', {}) as { currentTime: string };
    expect(Math.abs(Date.parse(hb.currentTime) - before)).toBeLessThan(5000);
    const detail = await t.api('GET', '/chargers/HB1');
    expect(detail.body.lastHeartbeatAt).toBe(hb.currentTime);
    const rows = await t.app.db('charger_messages').where({ charger_id: 'HB1' }).select('action');
    expect(rows.map((r: { action: string }) => r.action)).toContain('connected');
  });
});
