import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { type TestApp, useApp, within } from '../kit/index.js';

let t: TestApp;
const apps = useApp();

describe('what a browser or script on the LAN may send the API', () => {
  it('takes JSON only on JSON routes: a form post gets 415 and creates nothing', async () => {
    t = await apps.start({ config: { plugins: { users: {} } } });
    const form = await t.api('POST', '/users', { raw: 'username=mallory&role=admin', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    expect(form.body.message).toMatch(/application\/json/);
    const text = await t.api('POST', '/users', { raw: '{"username":"mallory","role":"admin"}', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect((await t.api('GET', '/users')).body.map((u: { username: string }) => u.username)).toEqual(['admin']);
    // The same body as JSON is taken (and names the missing password rule, not the media type).
    expect((await t.api('POST', '/users', { body: { username: 'mallory', role: 'driver' } })).status).toBe(201);
  });

  it('refuses a 100,000-character username before it reaches the audit log', async () => {
    t = await apps.start();
    const huge = 'u'.repeat(100_000);
    const res = await t.api('POST', '/auth/login', { body: { username: huge, password: 'x' }, token: null });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('username');
    expect(JSON.stringify(res.body).length).toBeLessThan(1000);
    const failed = await t.app.db('audit').where({ action: 'auth.login-failed' });
    expect(failed).toEqual([]);
  });

  it('refuses an upload with a bad token before reading its body', async () => {
    t = await apps.start({ config: { plugins: { diagnostics: {} } } });
    // Announce 30 MiB, send 1 KiB, and wait: the answer must come without the rest.
    const answer = new Promise<number>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1', port: t.port, method: 'PUT', path: '/api/diagnostics/upload/not-a-real-token-0123456789',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(30 * 1024 * 1024) },
      }, (res) => { resolve(res.statusCode ?? 0); res.resume(); req.destroy(); });
      req.once('error', (err) => { if (!/socket hang up|ECONNRESET/.test(String(err))) reject(err); });
      req.write(Buffer.alloc(1024));
    });
    expect(await within(answer, 3000)).toBe(true);
    expect(await answer).toBe(404);
  });

  it('sends security headers on the UI and the API', async () => {
    t = await apps.start();
    for (const path of ['/', '/api/health', '/api/nothing-here', '/some/client/route']) {
      const res = await fetch(`${t.url}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toMatch(/script-src 'self'(;|$)/);
      expect(csp, path).toMatch(/frame-ancestors 'none'/);
      expect(csp, path).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
    }
    const index = await (await fetch(`${t.url}/`)).text();
    // No inline script for the policy to have to allow.
    expect(index).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('wants a long password for the admin and installers', async () => {
    await expect(apps.start({ env: { CHARGEKEEPER_ADMIN_PASSWORD: 'short-pw' } })).rejects.toThrow(/CHARGEKEEPER_ADMIN_PASSWORD.*at least 12/);
    t = await apps.start({ config: { plugins: { users: {} } } });
    const installer = await t.api('POST', '/users', { body: { username: 'ian', role: 'installer', password: 'nine-char' } });
    expect(installer.status).toBe(400);
    expect(installer.body.errors).toEqual([{ field: 'password', message: 'must be at least 12 characters' }]);
    expect((await t.api('POST', '/users', { body: { username: 'dora', role: 'driver', password: 'nine-char' } })).status).toBe(201);
  });
});
