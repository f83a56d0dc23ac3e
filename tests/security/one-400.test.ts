import { beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../kit/index.js';

type Bad = { errors: Array<{ field: string; message: string }> };
const fields = (b: Bad) => b.errors.map((e) => e.field).sort();

let t: TestApp;
const apps = useApp();
beforeAll(async () => { t = await apps.start({ config: { plugins: { users: {}, reservations: {} } } }); });

describe('every bad field is named in one 400', () => {
  it('names both the charger and the card of an empty reservation', async () => {
    const res = await t.api<Bad>('POST', '/reservations', { body: {} });
    expect(res.status).toBe(400);
    expect(fields(res.body)).toEqual(['chargerId', 'idTag']);
  });

  it('names a bad role, a bad e-mail and a short password of a new user together, without echoing the password', async () => {
    const res = await t.api<Bad>('POST', '/users', { body: { username: 'eve', role: 'superuser', email: 'not-an-address', password: 'abc' } });
    expect(res.status).toBe(400);
    expect(fields(res.body)).toEqual(['email', 'password', 'role']);
    expect(res.body.errors.find((e) => e.field === 'email')!.message).toMatch(/e-mail address/);
    expect(JSON.stringify(res.body)).not.toContain('"abc"');
  });

  it('names a taken username together with a bad role when changing an account', async () => {
    const a = await t.api<{ id: number }>('POST', '/users', { body: { username: 'anna', role: 'driver', email: '  anna@example.org ' } });
    expect(a.status).toBe(201);
    const b = await t.api<{ id: number }>('POST', '/users', { body: { username: 'ben', role: 'driver', email: '' } });
    expect(b.status).toBe(201);
    const res = await t.api<Bad>('PATCH', `/users/${b.body.id}`, { body: { username: 'anna', role: 'boss', email: 'ben@' } });
    expect(res.status).toBe(400);
    expect(fields(res.body)).toEqual(['email', 'role', 'username']);
  });
});
