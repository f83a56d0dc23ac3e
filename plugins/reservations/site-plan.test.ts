import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../../tests/kit/index.js';
import { charger, driver } from './test-kit.js';

let t: TestApp;
const apps = useApp();

const png = readFileSync(join(import.meta.dirname, '..', '..', 'ui', 'public', 'icons', 'icon-192.png'));

async function upload(body: Buffer | string, type: string, token?: string) {
  const res = await fetch(`${t.url}/api/reservations/site-plan`, {
    method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers: { 'content-type': type, authorization: `Bearer ${token ?? await t.login()}` },
  });
  return { status: res.status, body: await res.json().catch(() => null) as Record<string, unknown> | null };
}

describe('the site plan', () => {
  it('stores an uploaded image in the data dir, serves it to drivers, and keeps the pins', async () => {
    t = await apps.start({ config: { plugins: { users: {}, reservations: {} } } });
    await charger(t, 'CP1');
    await charger(t, 'CP2');
    const ann = await driver(t, 'ann', 'ANN-1');
    expect((await t.api('GET', '/reservations/site-plan/pins', { token: ann.token })).body).toEqual({ plan: null, pins: [] });
    expect((await t.api('GET', '/reservations/site-plan', { token: ann.token })).status).toBe(404);

    const up = await upload(png, 'image/png');
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    expect(up.body).toMatchObject({ type: 'image/png', bytes: png.length });
    expect(readFileSync(join(t.dataDir, 'reservations', 'site-plan')).equals(png)).toBe(true);
    const served = await fetch(`${t.url}/api/reservations/site-plan`, { headers: { authorization: `Bearer ${ann.token}` } });
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true);

    const pins = [{ chargerId: 'CP1', x: 0.25, y: 0.5 }, { chargerId: 'CP2', x: 0.75, y: 0.5 }];
    expect((await t.api('PUT', '/reservations/site-plan/pins', { body: pins })).status).toBe(200);
    expect((await t.api('GET', '/reservations/site-plan/pins', { token: ann.token })).body).toMatchObject({ plan: { type: 'image/png' }, pins });
    expect((await t.api('PUT', '/reservations/site-plan/pins', { token: ann.token, body: pins })).status).toBe(403);
  });

  it('refuses what is not a PNG, JPEG or WebP image, and bad pins, naming the field', async () => {
    t = await apps.start({ config: { plugins: { users: {}, reservations: {} } } });
    await charger(t, 'CP1');
    const svg = await upload('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 'application/octet-stream');
    expect(svg.status).toBe(400);
    expect(svg.body).toMatchObject({ errors: [{ field: '(body)' }] });
    const bad = await t.api('PUT', '/reservations/site-plan/pins', { body: [{ chargerId: 'CP1', x: 1.5, y: 0 }, { chargerId: 'NOPE', x: 0, y: 0 }] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).join(' ')).toMatch(/x/);
    const unknown = await t.api('PUT', '/reservations/site-plan/pins', { body: [{ chargerId: 'NOPE', x: 0, y: 0 }] });
    expect(unknown.body).toMatchObject({ errors: [{ field: '[0].chargerId' }] });
  });
});
