import { describe, expect, it } from 'vitest';
import { Accounts } from '../../core/accounts.js';
import { ADMIN_PASSWORD, type TestApp, useApp } from '../kit/index.js';

let t: TestApp;
const apps = useApp();

describe('API access and input', () => {
  it('answers health without a token and 401 elsewhere without one', async () => {
    t = await apps.start();
    const health = await t.api('GET', '/health', { token: null });
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', version: expect.any(String), uptimeS: expect.any(Number) });
    expect((await t.api('GET', '/chargers', { token: null })).status).toBe(401);
    expect((await t.api('GET', '/chargers', { token: 'ck_forged' })).status).toBe(401);
  });

  it('refuses a wrong password and logs in with the initial admin password', async () => {
    t = await apps.start();
    expect((await t.api('POST', '/auth/login', { body: { username: 'admin', password: 'nope' }, token: null })).status).toBe(401);
    const ok = await t.api('POST', '/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD }, token: null });
    expect(ok.status).toBe(200);
    expect(ok.body.user).toMatchObject({ username: 'admin', role: 'admin' });
    const me = await t.api('GET', '/auth/me', { token: ok.body.token });
    expect(me.body).toMatchObject({ username: 'admin' });
    await t.api('POST', '/auth/logout', { token: ok.body.token });
    expect((await t.api('GET', '/auth/me', { token: ok.body.token })).status).toBe(401);
  });

  it('locks an account after five wrong passwords in a row, says for how long, and lets it in once the lock has passed', async () => {
    t = await apps.start();
    await new Accounts(t.app.db, t.clock, 3_600_000).create({ username: 'tom', role: 'technician', password: 'tech-pass-12' });
    const login = (username: string, password: string) => t.api('POST', '/auth/login', { body: { username, password }, token: null });
    for (let i = 0; i < 5; i++) expect((await login('Admin', `guess-${i}`)).status).toBe(401);
    // Now even the right password waits: a guesser cannot tell.
    const locked = await login('admin', ADMIN_PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.body.message).toMatch(/try again in \d+ s/);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
    // Another account is not affected.
    expect((await login('tom', 'tech-pass-12')).status).toBe(200);

    await t.clock.advance(61_000);
    expect((await login('admin', ADMIN_PASSWORD)).status).toBe(200);
    // The success cleared the count: one more typo is just a 401.
    expect((await login('admin', 'typo')).status).toBe(401);
    expect((await login('admin', ADMIN_PASSWORD)).status).toBe(200);
    expect((await t.api('GET', '/audit?action=auth.login-failed')).body).toHaveLength(6);
  });

  it('tells clients behind a trusted reverse proxy apart by X-Forwarded-For, and ignores that header otherwise', async () => {
    const login = (password: string, from: string) => t.api('POST', '/auth/login', {
      body: { username: 'admin', password }, token: null, headers: { 'x-forwarded-for': `${from}, 10.0.0.1` },
    });
    // The proxy (this loopback client) forwards through an inner hop at 10.0.0.1.
    t = await apps.start({ config: { http: { trustProxy: ['127.0.0.1', '10.0.0.0/8'] } } });
    for (let i = 0; i < 5; i++) expect((await login(`guess-${i}`, '203.0.113.9')).status).toBe(401);
    expect((await login(ADMIN_PASSWORD, '203.0.113.9')).status).toBe(429);
    // The admin at the office, through the same proxy, is not locked out.
    expect((await login(ADMIN_PASSWORD, '192.168.1.20')).status).toBe(200);
    expect((await t.api('GET', '/audit?action=auth.login-failed')).body[0].detail).toMatchObject({ address: '203.0.113.9' });
    await t.stop();

    // Without a proxy to trust, a client cannot dodge the lock by sending the header itself.
    t = await apps.start();
    for (let i = 0; i < 5; i++) expect((await login(`guess-${i}`, `198.51.100.${i}`)).status).toBe(401);
    expect((await login(ADMIN_PASSWORD, '192.168.1.20')).status).toBe(429);
  });

  it('answers 403 for a viewer on an installer route and lets the viewer read', async () => {
    t = await apps.start();
    const { Accounts } = await import('../../core/accounts.js');
    const accounts = new Accounts(t.app.db, t.clock, 3_600_000);
    await accounts.create({ username: 'vera', role: 'viewer', password: 'viewer-pw-1' });
    const token = await t.login('vera', 'viewer-pw-1');
    await (await t.chargePoint('CP1')).boot();
    expect((await t.api('GET', '/chargers', { token })).status).toBe(200);
    const patch = await t.api('PATCH', '/chargers/CP1', { token, body: { name: 'Garage' } });
    expect(patch.status).toBe(403);
    expect((await t.api('POST', '/chargers/CP1/commands/Reset', { token, body: { type: 'Soft' } })).status).toBe(403);
  });

  it('answers 400 naming each bad field and never 500 for a client mistake', async () => {
    t = await apps.start();
    await (await t.chargePoint('CP1')).boot();
    const bad = await t.api('PATCH', '/chargers/CP1', { body: { name: 42, password: 'short', colour: 'red' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['colour', 'name', 'password']);
    const notJson = await t.api('PATCH', '/chargers/CP1', { raw: '{"name":', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    const badQuery = await t.api('GET', '/transactions?limit=lots');
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.errors[0].field).toBe('limit');
    expect((await t.api('GET', '/chargers/NOPE')).status).toBe(404);
    expect((await t.api('GET', '/no-such-route')).status).toBe(404);
  });

  it('streams bus events over SSE with the token in the query', async () => {
    t = await apps.start();
    const token = await t.login();
    const controller = new AbortController();
    const res = await fetch(`${t.url}/api/events?token=${token}`, { signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const cp = await t.chargePoint('LIVE1');
    await cp.boot();
    let text = '';
    while (!text.includes('event: charger.booted')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain('event: charger.connected\ndata: {"chargerId":"LIVE1"');
    controller.abort();
    expect((await fetch(`${t.url}/api/events`)).status).toBe(401);
  });

  it('serves an OpenAPI document listing the routes with their roles', async () => {
    t = await apps.start();
    const doc = await t.api('GET', '/openapi.json', { token: null });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(doc.body.paths['/api/chargers/{id}'].patch['x-roles']).toEqual(['admin', 'installer']);
    expect(doc.body.paths['/api/health'].get['x-roles']).toBe('public');
  });
});

describe('dashboard statistics', () => {
  it('sums energy and sessions per day in the site time zone', async () => {
    t = await apps.start({ config: { site: { name: 'Stats', timezone: 'Pacific/Auckland' } } });
    const cp = await t.chargePoint('ST1');
    await cp.boot();
    const day = (offset: number) => new Date(Date.now() - offset * 86_400_000).toISOString();
    for (const [offset, wh] of [[0, 1000], [0, 2500], [2, 4000], [30, 9999]] as const) {
      const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: `T${wh}`, meterStart: 0, timestamp: day(offset) }) as { transactionId: number };
      await cp.call('StopTransaction', { transactionId, meterStop: wh, timestamp: day(offset) });
    }
    const res = await t.api('GET', '/stats/energy?days=7');
    expect(res.body).toHaveLength(7);
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Pacific/Auckland' }).format(Date.now());
    expect(res.body[6]).toEqual({ day: today, energyWh: 3500, sessions: 2 });
    expect(res.body[4]).toMatchObject({ energyWh: 4000, sessions: 1 });
    expect(res.body.reduce((s: number, d: { energyWh: number }) => s + d.energyWh, 0)).toBe(7500);
  });
});
