import { describe, expect, it } from 'vitest';
import { createUser, openEvents, type TestApp, useApp, within } from '../kit/index.js';

let t: TestApp;
const apps = useApp();

const USERS = { plugins: { users: {} } };

describe('a session ends when it should, streams included', () => {
  it('closes the event stream at logout', async () => {
    t = await apps.start();
    const token = await t.login();
    const stream = await openEvents(t.port, `token=${token}`);
    expect(stream.status).toBe(200);
    expect((await t.api('POST', '/auth/logout', { token })).status).toBe(204);
    expect(await within(stream.ended, 3000)).toBe(true);
  });

  it.each([
    ['disabled', { disabled: true }],
    ['given another role', { role: 'driver' }],
    ['given a new password', { password: 'a-new-password-1' }],
  ])('closes the stream of an account that is %s', async (_what, patch) => {
    t = await apps.start({ config: USERS });
    const vera = await createUser(t, 'vera', 'viewer', 'viewer-pass-1');
    const token = await t.login('vera', 'viewer-pass-1');
    const stream = await openEvents(t.port, `token=${token}`);
    expect(stream.status).toBe(200);
    expect((await t.api('PATCH', `/users/${vera.id}`, { body: patch })).status).toBe(200);
    expect(await within(stream.ended, 3000)).toBe(true);
    // Someone else's change leaves an admin's stream alone.
    const adminStream = await openEvents(t.port, `token=${await t.login()}`);
    await createUser(t, 'walt', 'viewer', 'viewer-pass-2');
    expect(await within(adminStream.ended, 500)).toBe(false);
    adminStream.close();
  });

  it('closes the stream when its session expires', async () => {
    t = await apps.start({ config: { http: { sessionTtl: '2s' } } });
    const stream = await openEvents(t.port, `token=${await t.login()}`);
    expect(await within(stream.ended, 500)).toBe(false);
    expect(await within(stream.ended, 4000)).toBe(true);
  });

  it('revokes personal API tokens with a password change and says how many', async () => {
    t = await apps.start({ config: USERS });
    const pat = await createUser(t, 'pat', 'technician', 'tech-pass-123');
    const session = await t.login('pat', 'tech-pass-123');
    const personal = await t.api('POST', `/users/${pat.id}/tokens`, { body: { label: 'script' }, token: session });
    expect(personal.status).toBe(201);
    expect((await t.api('GET', '/chargers', { token: personal.body.token })).status).toBe(200);
    const changed = await t.api('POST', '/users/me/password', { body: { currentPassword: 'tech-pass-123', newPassword: 'tech-pass-456' }, token: session });
    expect(changed.status).toBe(200);
    expect(changed.body.revokedTokens).toBe(2);
    expect((await t.api('GET', '/chargers', { token: personal.body.token })).status).toBe(401);
    expect((await t.api('GET', '/chargers', { token: session })).status).toBe(401);
    expect((await t.api('GET', '/chargers', { token: changed.body.token })).status).toBe(200);
    const audit = await t.api('GET', '/audit?action=user.password-change');
    expect(audit.body[0].detail).toEqual({ revokedTokens: 2 });
  });

  it('takes ?token= only on downloads and the event stream, and a one-time ticket there', async () => {
    t = await apps.start({ config: USERS });
    const token = await t.login();
    const inUrl = await fetch(`${t.url}/api/chargers?token=${token}`);
    expect(inUrl.status).toBe(401);
    expect((await inUrl.json()).message).toMatch(/Authorization: Bearer/);
    expect((await fetch(`${t.url}/api/tags/export?token=${token}`)).status).toBe(200);

    const ticket = await t.api('POST', '/auth/ticket', { token });
    expect(ticket.status).toBe(201);
    expect(ticket.body.ticket).toMatch(/^ckt_/);
    // Not on routes that take headers, and only once where it is taken.
    expect((await fetch(`${t.url}/api/chargers?ticket=${ticket.body.ticket}`)).status).toBe(401);
    const second = await t.api('POST', '/auth/ticket', { token });
    const download = await fetch(`${t.url}/api/tags/export?ticket=${second.body.ticket}`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toMatch(/text\/csv/);
    expect((await fetch(`${t.url}/api/tags/export?ticket=${second.body.ticket}`)).status).toBe(401);
    const streamTicket = await t.api('POST', '/auth/ticket', { token });
    const stream = await openEvents(t.port, `ticket=${streamTicket.body.ticket}`);
    expect(stream.status).toBe(200);
    stream.close();
  });
});

describe('trusted proxies', () => {
  const login = (t: TestApp, password: string, forwardedFor: string) => t.api('POST', '/auth/login', {
    body: { username: 'admin', password }, token: null, headers: { 'x-forwarded-for': forwardedFor },
  });

  it('takes the right-most untrusted hop: a fresh left-most X-Forwarded-For per try still gets 429', async () => {
    t = await apps.start({ config: { http: { trustProxy: ['127.0.0.1'] } } });
    // The proxy appends the real client (203.0.113.9) to whatever the client sent.
    for (let i = 0; i < 5; i++) expect((await login(t, `guess-${i}`, `10.9.9.${i}, 203.0.113.9`)).status).toBe(401);
    expect((await login(t, `guess-5`, `10.9.9.77, 203.0.113.9`)).status).toBe(429);
    expect((await t.api('GET', '/audit?action=auth.login-failed')).body[0].detail).toEqual({ address: '203.0.113.9' });
    // Another client through the same proxy is not locked out.
    expect((await login(t, 'test-admin-pw', '192.168.1.20')).status).toBe(200);
  });

  it('believes X-Forwarded-For only from a listed proxy, and names a bad entry', async () => {
    t = await apps.start({ config: { http: { trustProxy: ['10.0.0.0/8'] } } });
    // The test client connects from 127.0.0.1, which is no listed proxy: its header is ignored.
    for (let i = 0; i < 5; i++) expect((await login(t, `guess-${i}`, `198.51.100.${i}`)).status).toBe(401);
    expect((await login(t, 'test-admin-pw', '192.168.1.20')).status).toBe(429);
    await t.stop();
    await expect(apps.start({ config: { http: { trustProxy: ['10.0.0.0/40'] } } })).rejects.toThrow(/http\.trustProxy\.0/);
  });
});
