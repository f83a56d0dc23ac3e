import { beforeAll, describe, expect, it } from 'vitest';
import { createTag, createUser, type TestApp, useApp } from '../../tests/kit/index.js';
import { fields } from './test-kit.js';

let t: TestApp;
const apps = useApp();

beforeAll(async () => {
  t = await apps.start({ config: { plugins: { users: {} } } });
});

const works = async (token: string) => (await t.api('GET', '/users/me', { token })).status === 200;

describe('user accounts', () => {
  it('creates, lists, changes and deletes an account without ever returning a password', async () => {
    const created = await t.api('POST', '/users', { body: { username: 'dana', name: 'Dana D', email: 'dana@example.org', role: 'technician', password: 'dana-secret-1' } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(Number), username: 'dana', name: 'Dana D', email: 'dana@example.org', role: 'technician', disabled: false });
    const list = await t.api('GET', '/users');
    expect(list.body.map((u: { username: string }) => u.username)).toEqual(['admin', 'dana']);
    expect(JSON.stringify(list.body)).not.toMatch(/password|hash/i);
    const patched = await t.api('PATCH', `/users/${created.body.id}`, { body: { name: 'Dana Doe', email: null, role: 'viewer' } });
    expect(patched.body).toMatchObject({ name: 'Dana Doe', email: null, role: 'viewer' });
    expect((await t.api('GET', `/users/${created.body.id}`)).body.role).toBe('viewer');
    expect((await t.api('DELETE', `/users/${created.body.id}`)).status).toBe(204);
    expect((await t.api('GET', `/users/${created.body.id}`)).status).toBe(404);
  });

  it('answers 400 naming the field for a taken username, a bad e-mail, a short password or a bad role', async () => {
    await createUser(t, 'erin');
    expect(fields(await t.api('POST', '/users', { body: { username: 'ERIN', role: 'driver' } }))).toEqual(['username']);
    expect(fields(await t.api('POST', '/users', { body: { username: 'x1', role: 'driver', email: 'not-an-address' } }))).toEqual(['email']);
    const short = await t.api('POST', '/users', { body: { username: 'x1', role: 'driver', password: 'short' } });
    expect(fields(short)).toEqual(['password']);
    expect(JSON.stringify(short.body)).not.toContain('"short"');
    expect(fields(await t.api('POST', '/users', { body: { username: 'x1', role: 'owner' } }))).toEqual(['role']);
    expect(fields(await t.api('POST', '/users', { body: { username: 'has space', role: 'driver' } }))).toEqual(['username']);
    const admin = (await t.api('GET', '/users')).body.find((u: { username: string }) => u.username === 'admin');
    expect(fields(await t.api('PATCH', `/users/${admin.id}`, { body: { username: 'erin' } }))).toEqual(['username']);
  });

  it('refuses to delete, disable or demote the last admin with 409', async () => {
    const admin = (await t.api('GET', '/users')).body.find((u: { username: string }) => u.username === 'admin');
    expect((await t.api('DELETE', `/users/${admin.id}`)).status).toBe(409);
    expect((await t.api('PATCH', `/users/${admin.id}`, { body: { role: 'viewer' } })).status).toBe(409);
    expect((await t.api('PATCH', `/users/${admin.id}`, { body: { disabled: true } })).status).toBe(409);
    const second = await createUser(t, 'root2', 'admin', 'root2-password');
    const token = await t.login('root2', 'root2-password');
    expect((await t.api('PATCH', `/users/${second.id}`, { body: { role: 'installer' }, token })).status).toBe(200);
    expect((await t.api('GET', '/users/me', { token })).status).toBe(401);
  });

  it('lets users change their own password, ending every session and handing back a new one', async () => {
    await createUser(t, 'frank', 'viewer', 'frank-password');
    const phone = await t.login('frank', 'frank-password');
    const laptop = await t.login('frank', 'frank-password');
    const wrong = await t.api('POST', '/users/me/password', { token: laptop, body: { currentPassword: 'nope-nope', newPassword: 'frank-new-pw' } });
    expect(fields(wrong)).toEqual(['currentPassword']);
    expect(await works(laptop)).toBe(true);
    const changed = await t.api('POST', '/users/me/password', { token: laptop, body: { currentPassword: 'frank-password', newPassword: 'frank-new-pw' } });
    expect(changed.status).toBe(200);
    expect(await works(phone)).toBe(false);
    expect(await works(laptop)).toBe(false);
    expect(await works(changed.body.token)).toBe(true);
    await expect(t.login('frank', 'frank-password')).rejects.toThrow();
    expect(await works(await t.login('frank', 'frank-new-pw'))).toBe(true);
  });

  it('ends sessions when an admin resets the password, changes the role, disables or deletes the account', async () => {
    const gina = await createUser(t, 'gina', 'technician', 'gina-password');
    let token = await t.login('gina', 'gina-password');
    await t.api('PATCH', `/users/${gina.id}`, { body: { password: 'gina-password-2' } });
    expect(await works(token)).toBe(false);
    token = await t.login('gina', 'gina-password-2');
    await t.api('PATCH', `/users/${gina.id}`, { body: { name: 'Gina' } });
    expect(await works(token)).toBe(true);
    await t.api('PATCH', `/users/${gina.id}`, { body: { role: 'viewer' } });
    expect(await works(token)).toBe(false);
    token = await t.login('gina', 'gina-password-2');
    await t.api('PATCH', `/users/${gina.id}`, { body: { disabled: true } });
    expect(await works(token)).toBe(false);
    await expect(t.login('gina', 'gina-password-2')).rejects.toThrow();
    await t.api('PATCH', `/users/${gina.id}`, { body: { disabled: false } });
    token = await t.login('gina', 'gina-password-2');
    await t.api('DELETE', `/users/${gina.id}`);
    expect(await works(token)).toBe(false);
  });

  it('issues personal API tokens shown once, usable by scripts and revocable', async () => {
    const hank = await createUser(t, 'hank', 'installer', 'hank-password');
    const session = await t.login('hank', 'hank-password');
    const made = await t.api('POST', `/users/${hank.id}/tokens`, { token: session, body: { label: 'backup script', expiresInDays: 30 } });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ id: expect.any(Number), label: 'backup script', token: expect.stringMatching(/^ck_/) });
    expect(await works(made.body.token)).toBe(true);
    const listed = await t.api('GET', `/users/${hank.id}/tokens`, { token: session });
    expect(listed.body.find((x: { id: number }) => x.id === made.body.id)).toMatchObject({ kind: 'personal', label: 'backup script' });
    expect(JSON.stringify(listed.body)).not.toContain(made.body.token);
    // Someone else's tokens are an admin's business only.
    const other = await createUser(t, 'ivy', 'installer', 'ivy-password');
    expect((await t.api('GET', `/users/${other.id}/tokens`, { token: session })).status).toBe(403);
    // Revoking ends a token at once.
    expect((await t.api('DELETE', `/users/${hank.id}/tokens/${made.body.id}`)).status).toBe(204);
    expect(await works(made.body.token)).toBe(false);
    expect((await t.api('DELETE', `/users/${hank.id}/tokens/${made.body.id}`)).status).toBe(404);
    // A password change ends the scripts' tokens too (whoever knew the old password may have made them).
    const again = await t.api('POST', `/users/${hank.id}/tokens`, { body: { label: 'backup script' } });
    const reset = await t.api('PATCH', `/users/${hank.id}`, { body: { password: 'hank-password-2' } });
    expect(reset.body.revokedTokens).toBe(2);
    expect(await works(again.body.token)).toBe(false);
  });
});

describe('audit log', () => {
  it('records every user and tag change with the acting username, newest first', async () => {
    const jo = await t.api('POST', '/users', { body: { username: 'jo', role: 'driver', password: 'jo-password' } });
    await t.api('PATCH', `/users/${jo.body.id}`, { body: { role: 'viewer' } });
    await t.api('PATCH', `/users/${jo.body.id}`, { body: { password: 'jo-password-2' } });
    const joToken = await t.login('jo', 'jo-password-2');
    await t.api('POST', '/users/me/password', { token: joToken, body: { currentPassword: 'jo-password-2', newPassword: 'jo-password-3' } });
    const tok = await t.api('POST', `/users/${jo.body.id}/tokens`, { body: { label: 'cron' } });
    await t.api('DELETE', `/users/${jo.body.id}/tokens/${tok.body.id}`);
    await createTag(t, { idTag: 'AUD-1', userId: jo.body.id });
    await t.api('PATCH', '/tags/AUD-1', { body: { status: 'Blocked' } });
    await t.api('POST', '/tags/import', { raw: 'idTag\nAUD-2\n', headers: { 'content-type': 'text/csv' } });
    await t.api('DELETE', '/tags/AUD-1');
    await t.api('DELETE', `/users/${jo.body.id}`);

    const audit = await t.api('GET', '/audit?limit=50');
    expect(audit.status).toBe(200);
    const mine = audit.body.filter((e: { action: string }) => /^(user|token|tag)\./.test(e.action)).slice(0, 11).reverse();
    expect(mine.map((e: { actor: string; action: string; target: string }) => [e.actor, e.action, e.target])).toEqual([
      ['admin', 'user.create', 'user:jo'],
      ['admin', 'user.update', 'user:jo'],
      ['admin', 'user.password-reset', 'user:jo'],
      ['jo', 'user.password-change', 'user:jo'],
      ['admin', 'token.create', 'user:jo'],
      ['admin', 'token.revoke', 'user:jo'],
      ['admin', 'tag.create', 'tag:AUD-1'],
      ['admin', 'tag.update', 'tag:AUD-1'],
      ['admin', 'tag.import', null],
      ['admin', 'tag.delete', 'tag:AUD-1'],
      ['admin', 'user.delete', 'user:jo'],
    ]);
    expect(mine[1].detail).toEqual({ role: { from: 'driver', to: 'viewer' } });
    expect(mine[7].detail).toEqual({ status: { from: 'Accepted', to: 'Blocked' } });
    expect(JSON.stringify(audit.body)).not.toMatch(/jo-password/);
    const filtered = await t.api('GET', '/audit?actor=jo');
    expect(filtered.body.map((e: { action: string }) => e.action)).toContain('user.password-change');
    // The log is read-only: there is no route to change it.
    expect((await t.api('DELETE', '/audit')).status).toBe(404);
  });
});
