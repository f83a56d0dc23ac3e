import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ocppRpc from 'ocpp-rpc';
import { afterEach, describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../kit/index.js';

const { RPCClient } = ocppRpc;
let t: TestApp | undefined;
let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
// Registered after the hook above so that it runs first: the app stops before its certificate is removed.
const apps = useApp();

describe('security profile 2 (TLS)', () => {
  it('serves OCPP over wss and the API over https when a certificate is configured, with the charger password checked', async () => {
    dir = mkdtempSync(join(tmpdir(), 'chargekeeper-tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    t = await apps.start({ config: { http: { host: '127.0.0.1', port: 0, tls: { cert, key } } } });
    expect(t.url).toMatch(/^https:/);
    const ca = readFileSync(cert);
    const connect = async (password?: string) => {
      const c = new RPCClient({
        endpoint: `wss://127.0.0.1:${t!.port}/ocpp`, identity: 'TLS1', protocols: ['ocpp1.6'], reconnect: false,
        wsOpts: { ca }, ...(password ? { password } : {}),
      } as ConstructorParameters<typeof RPCClient>[0]);
      await c.connect();
      return c;
    };
    const first = await connect();
    expect(await first.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' })).toMatchObject({ status: 'Accepted' });
    await first.close({ code: 1000 });
    // The API is on the same TLS port; set a password and see it enforced over wss.
    const { request } = await import('node:https');
    const login = await new Promise<{ token: string }>((resolve, reject) => {
      const req = request(`${t!.url}/api/auth/login`, { method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => { body += d; });
        res.on('end', () => resolve(JSON.parse(body) as { token: string }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ username: 'admin', password: 'test-admin-pw' }));
    });
    expect(login.token).toMatch(/^ck_/);
    await t.app.db('chargers').where({ id: 'TLS1' }).update({ password_hash: await (await import('../../core/passwords.js')).hashPassword('tls-secret-123') });
    await expect(connect()).rejects.toThrow();
    const ok = await connect('tls-secret-123');
    expect(await ok.call('Heartbeat', {})).toHaveProperty('currentTime');
    await ok.close({ code: 1000 });
  });
});
