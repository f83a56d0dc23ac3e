import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ocppRpc from 'ocpp-rpc';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { issueCertificate, splitPemChain } from '../../core/certificates/x509.js';
import { type TestApp, eventually, useApp } from '../kit/index.js';

const { RPCClient } = ocppRpc;
let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
// Registered after the hook above so that it runs first: the app stops before its files are removed.
const apps = useApp();

const DAY = 86_400_000;
const spki = (k: KeyObject) => createPublicKey(k).export({ type: 'spki', format: 'der' });
const ecKey = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;

function makeCa(cn: string) {
  const key = ecKey();
  const { pem, cert } = issueCertificate({
    subject: { CN: cn }, spkiDer: spki(key), notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 30 * DAY), use: 'ca',
    issuer: { cert: null, key },
  });
  return { key, pem, cert };
}

function leaf(ca: ReturnType<typeof makeCa>, cn: string, use: 'client' | 'server' = 'client', altNames?: string[]) {
  const key = ecKey();
  const { pem } = issueCertificate({
    subject: { CN: cn }, spkiDer: spki(key), notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 10 * DAY), use, altNames,
    issuer: { cert: ca.cert, key: ca.key },
  });
  return { cert: pem, key: key.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/** The HTTP status the upgrade answered (101 when it opened). */
function upgradeStatus(t: TestApp, id: string, ca: string, client?: { cert: string; key: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${t.port}/ocpp/${id}`, ['ocpp2.0.1'], { ca, ...(client ?? {}) });
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.on('open', () => { resolve(101); ws.close(); });
    ws.on('error', reject);
  });
}

describe('security profile 3 (TLS with client certificates)', () => {
  it('admits a station whose certificate the site CA signed for its own id, and refuses the others at the upgrade', async () => {
    dir = mkdtempSync(join(tmpdir(), 'chargekeeper-mtls-'));
    const ca = makeCa('Installer CA');
    const server = leaf(ca, '127.0.0.1', 'server', ['127.0.0.1', 'localhost']);
    const files = { caCert: join(dir, 'ca.pem'), caKey: join(dir, 'ca.key'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
    writeFileSync(files.caCert, ca.pem);
    writeFileSync(files.caKey, ca.key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(files.cert, server.cert);
    writeFileSync(files.key, server.key, { mode: 0o600 });
    const t = await apps.start({
      config: {
        http: { host: '127.0.0.1', port: 0, tls: { cert: files.cert, key: files.key } },
        ocpp: { unknownChargers: 'accept', security: { profile: 3, ca: { cert: files.caCert, key: files.caKey } } },
      },
    });
    // P3B is known, so its refusals are its own (logged and kept for its page).
    await t.app.db('chargers').insert({ id: 'P3B', approved: true, registered_at: t.clock.iso(), last_seen_at: t.clock.iso() });
    // The certificate is the credential: a password set for profile 1 or 2 is not asked for.
    const { hashPassword } = await import('../../core/passwords.js');
    await t.app.db('chargers').insert({ id: 'P3A', approved: true, registered_at: t.clock.iso(), last_seen_at: t.clock.iso(), password_hash: await hashPassword('profile-2-secret') });

    const good = new RPCClient({
      endpoint: `wss://127.0.0.1:${t.port}/ocpp`, identity: 'P3A', protocols: ['ocpp2.0.1'], reconnect: false,
      wsOpts: { ca: ca.pem, ...leaf(ca, 'P3A') },
    } as ConstructorParameters<typeof RPCClient>[0]);
    await good.connect();
    expect(await good.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'V', model: 'M' } })).toMatchObject({ status: 'Accepted' });

    const other = makeCa('Someone else');
    expect(await upgradeStatus(t, 'P3B', ca.pem, leaf(ca, 'P3A'))).toBe(403);
    expect(await upgradeStatus(t, 'P3B', ca.pem, leaf(other, 'P3B'))).toBe(401);
    expect(await upgradeStatus(t, 'P3B', ca.pem)).toBe(401);
    expect(await upgradeStatus(t, 'P3C', ca.pem)).toBe(401);
    // None of them got a session, and nothing was registered for the unknown id.
    expect(t.app.ocpp.onlineIds()).toEqual(['P3A']);
    expect(await t.app.db('chargers').where({ id: 'P3C' })).toEqual([]);
    const reasons = t.seen('charger.rejected').filter((e) => e.chargerId === 'P3B').map((e) => e.reason);
    expect(reasons).toEqual([
      'client certificate is for another charger (CN)', 'client certificate not signed by the site CA', 'no client certificate (security profile 3)',
    ]);
    await eventually(() => t.logs.some((l) => l.includes('refused charger P3B') && l.includes('for another charger')));

    // The bystander is still served.
    expect(await good.call('Heartbeat', {})).toHaveProperty('currentTime');
    await good.close({ code: 1000 });

    // The API and UI need no client certificate.
    const { request } = await import('node:https');
    const status = await new Promise<number>((resolve, reject) => {
      request(`${t.url}/api/health`, { ca: ca.pem }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject).end();
    });
    expect(status).toBe(200);
    expect(splitPemChain(ca.pem)[0]!.ca).toBe(true);
  });
});
