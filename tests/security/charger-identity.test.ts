import { describe, expect, it } from 'vitest';
import { eventually, rawCharger, type TestApp, upgradeStatus, useApp } from '../kit/index.js';

let t: TestApp;
const apps = useApp();

describe('charger identity is earned', () => {
  it('keeps new chargers pending by default, until an installer approves them (optionally with a password)', async () => {
    // No ocpp.unknownChargers in the site config: the product default applies.
    t = await apps.start({ config: { ocpp: { unknownChargers: undefined } } });
    const cp = await t.chargePoint('NEW1');
    expect((await cp.boot()).status).toBe('Pending');
    await expect(cp.call('StartTransaction', { connectorId: 1, idTag: 'X', meterStart: 0, timestamp: new Date().toISOString() }))
      .rejects.toMatchObject({ rpcErrorCode: 'SecurityError' });

    const closed = new Promise<void>((resolve) => cp.once('close', () => resolve()));
    const approved = await t.api('POST', '/chargers/NEW1/approve', { body: { password: 'new-secret-1' } });
    expect(approved.status).toBe(200);
    await closed; // it connected without the password it now has
    expect(await upgradeStatus(t.port, 'NEW1')).toBe(401);
    const back = await t.chargePoint('NEW1', { password: 'new-secret-1' });
    expect((await back.boot()).status).toBe('Accepted');
  });

  it('refuses a newcomer with the id of a charger whose socket still answers, and tells the operator', async () => {
    t = await apps.start();
    const real = await t.chargePoint('CP3');
    await real.boot();
    const status = await upgradeStatus(t.port, 'CP3');
    expect(status).toBe(409);
    expect(t.seen('charger.rejected')).toEqual([expect.objectContaining({ chargerId: 'CP3', reason: 'someone else tried to connect as CP3 while it is connected' })]);
    // The real charger was never displaced.
    expect(await real.call('Heartbeat', {})).toHaveProperty('currentTime');
    expect(t.app.ocpp.isOnline('CP3')).toBe(true);
    // The charger's page says so too, without the alerts plugin.
    const detail = await t.api<{ lastRefusal: { reason: string; remoteAddress: string } | null }>('GET', '/chargers/CP3');
    expect(detail.body.lastRefusal).toMatchObject({ reason: 'someone else tried to connect as CP3 while it is connected', remoteAddress: '127.0.0.1' });
  });

  it('replaces a socket that no longer answers pings', async () => {
    t = await apps.start();
    // autoPong off: the socket looks open but is dead, like one left behind by a charger that lost its network.
    const ghost = await rawCharger(t.port, 'CP4', { autoPong: false });
    expect((await ghost.call('b', 'BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' }))[0]).toBe(3);
    const fresh = await t.chargePoint('CP4');
    expect((await fresh.boot()).status).toBe('Accepted');
    expect((await ghost.closed).code).toBe(4000);
  });

  it('closes the socket of a charger whose password is set, changed or cleared', async () => {
    t = await apps.start();
    const cases: Array<{ id: string; before: string | null; after: string | null }> = [
      { id: 'SET', before: null, after: 'first-secret' },
      { id: 'CHANGED', before: 'first-secret', after: 'second-secret' },
      { id: 'CLEARED', before: 'first-secret', after: null },
    ];
    for (const c of cases) {
      await (await t.chargePoint(c.id)).close();
      if (c.before) expect((await t.api('PATCH', `/chargers/${c.id}`, { body: { password: c.before } })).status).toBe(200);
      const cp = await t.chargePoint(c.id, c.before ? { password: c.before } : {});
      await cp.boot();
      const closed = new Promise<number>((resolve) => cp.once('close', ({ code }: { code: number }) => resolve(code)));
      expect((await t.api('PATCH', `/chargers/${c.id}`, { body: { password: c.after } })).status).toBe(200);
      expect(await closed).toBe(4001);
      expect(await upgradeStatus(t.port, c.id, c.before ?? undefined)).toBe(c.after === null ? 101 : 401);
    }
  });

  it('throttles wrong charger passwords per id and address before running scrypt', async () => {
    t = await apps.start();
    await t.chargePoint('CP6').then((c) => c.close());
    expect((await t.api('PATCH', '/chargers/CP6', { body: { password: 'right-password' } })).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push(await upgradeStatus(t.port, 'CP6', `wrong-${i}`));
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    // Locked for this address even with the right password, until the lock ends.
    expect(await upgradeStatus(t.port, 'CP6', 'right-password')).toBe(429);
    // Only the five real failures reached the operator, not the throttled tries.
    expect(t.seen('charger.rejected').filter((e) => e.chargerId === 'CP6')).toHaveLength(5);
  });
});

describe('refusals are summed up', () => {
  it('raises one alert for 60 unknown ids, with their count and addresses', async () => {
    t = await apps.start({ config: { ocpp: { unknownChargers: 'reject' }, plugins: { alerts: { channels: [] } } } });
    for (let i = 0; i < 60; i++) expect(await upgradeStatus(t.port, `FAKE${i}`)).toBe(401);
    const alerts = await eventually(async () => {
      const res = await t.api<Array<{ kind: string; message: string }>>('GET', '/alerts');
      const list = (res.body as unknown as Array<{ kind: string; message: string }>).filter((a) => a.kind === 'charger-rejected');
      return list.length ? list : null;
    });
    expect(alerts).toHaveLength(1);
    expect(alerts![0]!.message).toContain('127.0.0.1');
    expect(t.seen('chargers.refused')).toHaveLength(1);
    // One log line for the window, not sixty.
    expect(t.logs.filter((l) => l.includes('refused charger'))).toHaveLength(1);
  });

  it('validates ids before logging them: 1–48 characters, no line breaks in the log', async () => {
    t = await apps.start({ config: { log: { level: 'info' } } });
    expect(await upgradeStatus(t.port, 'CP1%0A2026-01-01T00:00:00.000Z%20INFO%20%20[core]%20forged')).toBe(400);
    expect(await upgradeStatus(t.port, 'X'.repeat(49))).toBe(400);
    expect(await upgradeStatus(t.port, 'X'.repeat(48))).toBe(101);
    expect(t.logs.some((l) => l.startsWith('2026-01-01T00:00:00.000Z'))).toBe(false);
    expect(t.logs.every((l) => !l.includes('\n'))).toBe(true);
    expect(t.logs.some((l) => l.includes('\\u000a'))).toBe(true);
  });
});
