import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCsr, issueCertificate } from '../../../core/certificates/x509.js';
import { type TestApp, type TestChargePoint, eventually, useApp } from '../../../tests/kit/index.js';
import { active, findings, settled } from '../test-kit.js';

let t: TestApp;
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
const apps = useApp();
const DAY = 86_400_000;

async function requestCertificate(cp: TestChargePoint, cn = cp.id): Promise<string> {
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  return (await cp.call('SignCertificate', { csr: createCsr({ CN: cn }, key) }) as { status: string }).status;
}

describe('certificate-expiry check', () => {
  it('warns 30 days before a charger certificate expires, turns critical at 7 and clears after renewal', async () => {
    // A login that outlasts the months the clock moves.
    t = await apps.start({ config: { http: { sessionTtl: '400d' }, ocpp: { security: { profile: 1, certificateValidity: '60d' } }, plugins: { diagnostics: {} } } });
    const cp = await t.chargePoint('CP1');
    let signed = 0;
    cp.handle('CertificateSigned', () => { signed++; return { status: 'Accepted' }; });
    await cp.boot();
    expect(await requestCertificate(cp)).toBe('Accepted');
    await eventually(() => signed === 1);
    await settled(t);
    expect(await active(t, 'certificate-expiry')).toEqual([]);

    await t.clock.advance(31 * DAY);
    const [warn] = await active(t, 'certificate-expiry', 'CP1');
    expect(warn).toMatchObject({ subKey: 'expiry:charger', severity: 'warning' });
    expect(warn!.message).toMatch(/The charger certificate of CP1 expires in 2\d days/);

    await t.clock.advance(23 * DAY);
    const [crit] = await active(t, 'certificate-expiry', 'CP1');
    expect(crit).toMatchObject({ id: warn!.id, severity: 'critical' });

    // Renewal: the charger sends a new request, the new certificate is valid for 60 days from now.
    expect(await requestCertificate(cp)).toBe('Accepted');
    await eventually(() => signed === 2);
    await eventually(async () => (await active(t, 'certificate-expiry')).length === 0);
    expect(await findings(t, { check: 'certificate-expiry' })).toEqual([expect.objectContaining({ id: warn!.id, state: 'cleared' })]);
  });

  it('raises a warning when a charger asks for a certificate in another charger\'s name, cleared when it gets its own', async () => {
    t = await apps.start({ config: { ocpp: { security: { profile: 1 } }, plugins: { diagnostics: {} } } });
    const cp = await t.chargePoint('CP2');
    cp.handle('CertificateSigned', () => ({ status: 'Accepted' }));
    await cp.boot();
    expect(await requestCertificate(cp, 'CP1')).toBe('Rejected');
    const [f] = await active(t, 'certificate-expiry', 'CP2');
    expect(f).toMatchObject({ subKey: 'request', severity: 'warning' });
    expect(f!.message).toMatch(/asked for a certificate that is not its own/);
    expect(await requestCertificate(cp)).toBe('Accepted');
    await eventually(async () => (await active(t, 'certificate-expiry', 'CP2')).length === 0);
  });

  it('raises critical for a server certificate (http.tls) that expires within 7 days', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chargekeeper-expiry-'));
    dirs.push(dir);
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const { pem } = issueCertificate({
      subject: { CN: '127.0.0.1' }, spkiDer: createPublicKey(key).export({ type: 'spki', format: 'der' }), use: 'server', altNames: ['127.0.0.1'],
      notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 5 * DAY), issuer: { cert: null, key },
    });
    writeFileSync(join(dir, 'cert.pem'), pem);
    writeFileSync(join(dir, 'key.pem'), key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    t = await apps.start({ config: { http: { host: '127.0.0.1', port: 0, tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } }, plugins: { diagnostics: {} } } });
    const serverFindings = async () => {
      await settled(t);
      return (await t.app.db('diagnostics_findings').where({ check: 'certificate-expiry', state: 'active' })) as Array<{ charger_id: string | null; severity: string; message: string }>;
    };
    const [f] = (await eventually(async () => { const list = await serverFindings(); return list.length ? list : null; }))!;
    expect(f).toMatchObject({ charger_id: null, severity: 'critical' });
    expect(f!.message).toMatch(/The server certificate \(http.tls\) expires in 4 days/);
  });
});
