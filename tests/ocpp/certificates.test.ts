import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { certificateHashData, commonNameOf, createCsr, splitPemChain } from '../../core/certificates/x509.js';
import { commandRefusal } from '../../core/ocpp/command-roles.js';
import { type TestApp, type TestChargePoint, eventually, sleep, useApp } from '../kit/index.js';
import { boot201, station } from './v201-kit.js';

let t: TestApp;
const apps = useApp();
const security = { config: { ocpp: { security: { profile: 1, certificateValidity: '30d' } } } };

const ecKey = (): KeyObject => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;

/** Answers CertificateSigned like a charger that takes it, and hands the call's payload to the test. */
function certificateInbox(cp: TestChargePoint) {
  const got: Array<{ certificateChain: string; certificateType?: string }> = [];
  cp.handle('CertificateSigned', ({ params }) => {
    got.push(params);
    return { status: 'Accepted' };
  });
  return got;
}

const caOf = (t: TestApp) => splitPemChain(readFileSync(join(t.dataDir, 'ca', 'ca.pem'), 'utf8'))[0]!;

describe('SignCertificate and CertificateSigned', () => {
  it('signs a 2.0.1 station\'s and a 1.6 charger\'s own requests with the site CA, made on first start', async () => {
    t = await apps.start(security);
    const keyFile = join(t.dataDir, 'ca', 'ca.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const ca = caOf(t);
    expect(ca.ca).toBe(true);

    const st = await station(t, 'ST1');
    const inbox201 = certificateInbox(st);
    await boot201(st);
    const csr201 = createCsr({ CN: 'ST1' }, ecKey());
    expect(await st.call('SignCertificate', { csr: csr201, certificateType: 'ChargingStationCertificate' })).toEqual({ status: 'Accepted' });
    await eventually(() => inbox201.length === 1);
    expect(inbox201[0]!.certificateType).toBe('ChargingStationCertificate');
    const [leaf201, root201] = splitPemChain(inbox201[0]!.certificateChain);
    expect(commonNameOf(leaf201!)).toBe('ST1');
    expect(leaf201!.checkIssued(ca) && leaf201!.verify(ca.publicKey)).toBe(true);
    expect(root201!.fingerprint256).toBe(ca.fingerprint256);
    expect(Date.parse(leaf201!.validTo) - Date.now()).toBeLessThan(31 * 86_400_000);

    const cp = await t.chargePoint('CP16');
    const inbox16 = certificateInbox(cp);
    await cp.boot();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(await cp.call('SignCertificate', { csr: createCsr({ CN: 'CP16' }, rsa) })).toEqual({ status: 'Accepted' });
    await eventually(() => inbox16.length === 1);
    expect(inbox16[0]).not.toHaveProperty('certificateType');
    const [leaf16] = splitPemChain(inbox16[0]!.certificateChain);
    expect(commonNameOf(leaf16!)).toBe('CP16');
    expect(leaf16!.verify(ca.publicKey)).toBe(true);

    // Stored, with the charger's answer.
    await eventually(async () => {
      const res = await t.api('GET', '/chargers/ST1/certificates');
      expect(res.body).toEqual([expect.objectContaining({ chargerId: 'ST1', use: 'charger', serial: leaf201!.serialNumber, commonName: 'ST1', delivery: 'Accepted', fingerprint: leaf201!.fingerprint256 })]);
      return true;
    });
    expect((await t.api('GET', '/chargers/NOPE/certificates')).status).toBe(404);
    expect(t.logs.join('\n')).not.toMatch(/PRIVATE KEY/);
  });

  it('rejects a request for another identity (audited, a security event) and a malformed one, and issues nothing', async () => {
    t = await apps.start(security);
    const st = await station(t, 'ST2');
    const inbox = certificateInbox(st);
    await boot201(st);
    const rejected = t.waitFor('certificate.rejected');
    expect(await st.call('SignCertificate', { csr: createCsr({ CN: 'ST1' }, ecKey()) })).toEqual({ status: 'Rejected' });
    expect(await rejected).toMatchObject({ chargerId: 'ST2', use: 'charger' });
    expect(await st.call('SignCertificate', { csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----' })).toEqual({ status: 'Rejected' });
    const audit = await t.app.db('audit').where({ action: 'certificate.rejected', target: 'ST2' });
    expect(audit.map((a: { detail: string }) => JSON.parse(a.detail).reason)).toEqual(['the request names another charger (CN)', 'malformed request']);
    await sleep(100);
    expect(inbox).toEqual([]);
    expect(await t.app.db('certificates')).toEqual([]);
  });

  it('with ocpp.security.organization, signs only requests that name it (O)', async () => {
    t = await apps.start({ config: { ocpp: { security: { profile: 1, organization: 'Acme Charging' } } } });
    const st = await station(t, 'ST6');
    const inbox = certificateInbox(st);
    await boot201(st);
    expect(await st.call('SignCertificate', { csr: createCsr({ CN: 'ST6' }, ecKey()) })).toEqual({ status: 'Rejected' });
    expect(await st.call('SignCertificate', { csr: createCsr({ CN: 'ST6', O: 'Other' }, ecKey()) })).toEqual({ status: 'Rejected' });
    expect(await st.call('SignCertificate', { csr: createCsr({ CN: 'ST6', O: 'Acme Charging' }, ecKey()), certificateType: 'V2GCertificate' })).toEqual({ status: 'Accepted' });
    await eventually(() => inbox.length === 1);
    expect(inbox[0]!.certificateType).toBe('V2GCertificate');
    expect(caOf(t).subject).toMatch(/O=Acme Charging/);
    expect((await t.api('GET', '/chargers/ST6/certificates')).body).toEqual([expect.objectContaining({ use: 'v2g' })]);
  });

  it('rejects every request when the site has no CA', async () => {
    t = await apps.start();
    const st = await station(t, 'ST3');
    await boot201(st);
    expect(await st.call('SignCertificate', { csr: createCsr({ CN: 'ST3' }, ecKey()) })).toEqual({ status: 'Rejected' });
    expect((await t.api('POST', '/chargers/ST3/certificates/renew')).status).toBe(409);
  });

  it('asks a charger to renew (2.0.1 TriggerMessage, 1.6 ExtendedTriggerMessage)', async () => {
    t = await apps.start(security);
    const st = await station(t, 'ST4');
    await boot201(st);
    const asked: unknown[] = [];
    st.handle('TriggerMessage', ({ params }) => { asked.push(params); return { status: 'Accepted' }; });
    const res = await t.api('POST', '/chargers/ST4/certificates/renew');
    expect(res).toMatchObject({ status: 200, body: { accepted: true, status: 'Accepted' } });
    expect(asked).toEqual([{ requestedMessage: 'SignChargingStationCertificate' }]);

    const cp = await t.chargePoint('CP4');
    await cp.boot();
    const asked16: unknown[] = [];
    cp.handle('ExtendedTriggerMessage', ({ params }) => { asked16.push(params); return { status: 'Accepted' }; });
    expect((await t.api('POST', '/chargers/CP4/certificates/renew')).body).toEqual({ accepted: true, status: 'Accepted' });
    expect(asked16).toEqual([{ requestedMessage: 'SignChargePointCertificate' }]);
  });
});

describe('installed certificates', () => {
  it('installs the site CA as the central system root, lists it and deletes it, in each version\'s words', async () => {
    t = await apps.start(security);
    const caRes = await t.api<{ certificate: string }>('GET', '/certificates/ca');
    expect(caRes.body.certificate).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(caRes.body.certificate).not.toMatch(/PRIVATE/);
    const ca = splitPemChain(caRes.body.certificate)[0]!;
    const commands = t.app.core.chargers.commands;
    const opts = { actor: 'admin' };
    for (const [id, v201] of [['ST5', true], ['CP5', false]] as const) {
      const cp = v201 ? await station(t, id) : await t.chargePoint(id);
      if (v201) await boot201(cp); else await cp.boot();
      const store = new Map<string, { type: string; pem: string }>();
      cp.handle('InstallCertificate', ({ params }) => {
        store.set(certificateHashData(splitPemChain(params.certificate)[0]!, ca).serialNumber, { type: params.certificateType, pem: params.certificate });
        return { status: 'Accepted' };
      });
      cp.handle('GetInstalledCertificateIds', ({ params }) => {
        const list = [...store.values()].map((c) => ({ type: c.type, hash: certificateHashData(splitPemChain(c.pem)[0]!, ca) }));
        if (!list.length) return { status: 'NotFound' };
        if (!v201) {
          expect(params).toEqual({ certificateType: 'CentralSystemRootCertificate' });
          return { status: 'Accepted', certificateHashData: list.map((l) => l.hash) };
        }
        return { status: 'Accepted', certificateHashDataChain: list.map((l) => ({ certificateType: l.type, certificateHashData: l.hash })) };
      });
      cp.handle('DeleteCertificate', ({ params }) => ({ status: store.delete(params.certificateHashData.serialNumber) ? 'Accepted' : 'NotFound' }));

      expect(await commands.installRootCertificate(id, { kind: 'csms', certificate: caRes.body.certificate }, opts)).toEqual({ accepted: true, status: 'Accepted' });
      expect([...store.values()][0]!.type).toBe(v201 ? 'CSMSRootCertificate' : 'CentralSystemRootCertificate');
      const listed = await commands.installedCertificates(id, {}, opts);
      expect(listed).toEqual({ status: 'Accepted', certificates: [{ ...certificateHashData(ca, ca), kind: 'csms' }] });
      const { kind: _k, ...hash } = listed.certificates[0]!;
      expect(await commands.deleteCertificate(id, hash, opts)).toEqual({ accepted: true, status: 'Accepted' });
      expect(await commands.installedCertificates(id, {}, opts)).toEqual({ status: 'NotFound', certificates: [] });
    }
  });

  it('leaves certificate commands to installers', () => {
    for (const action of ['InstallCertificate', 'DeleteCertificate', 'GetInstalledCertificateIds', 'CertificateSigned']) {
      expect(commandRefusal('technician', action, {})).toMatch(/installers/);
      expect(commandRefusal('installer', action, {})).toBeNull();
    }
  });
});

describe('ocpp.security config', () => {
  it('needs http.tls for profiles 2 and 3, and a validity of at least a day', async () => {
    const { loadCoreConfig } = await import('../../core/config.js');
    const env = { CHARGEKEEPER_CONFIG: '/nonexistent.yaml' };
    const tls = loadCoreConfig(env, 'ocpp:\n  security:\n    profile: 3\n');
    expect(tls.problems).toEqual([{ path: 'ocpp.security.profile', message: 'expected http.tls (a certificate and key) with security profile 3, got none' }]);
    const short = loadCoreConfig(env, 'ocpp:\n  security:\n    certificateValidity: 1h\n');
    expect(short.problems).toEqual([{ path: 'ocpp.security.certificateValidity', message: 'expected at least 1d, got "1h"' }]);
    expect(loadCoreConfig(env, 'ocpp:\n  security: { profile: 1, organization: Acme }\n').problems).toEqual([]);
  });
});
