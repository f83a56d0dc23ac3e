import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventually, type TestApp, useApp } from '../../tests/kit/index.js';
import type { FindingView } from '../diagnostics/store.js';
import type { CampaignView } from './store.js';
import { campaignWhen, simCharger, upload, withFleet } from './test-kit.js';

let t: TestApp;
const apps = useApp();
const FIRMWARE = Buffer.from(randomBytes(50_000));

// A self-signed test certificate (EC P-256), as a manufacturer's firmware signing certificate would come.
const CERT = `-----BEGIN CERTIFICATE-----
MIIBlDCCATugAwIBAgIUMJe7klYjNMdbwON3d6+k//rylkEwCgYIKoZIzj0EAwIw
IDEeMBwGA1UEAwwVRmlybXdhcmUgU2lnbmluZyBUZXN0MB4XDTI2MTIwNzE1NTc0
NFoXDTM2MTIwNDE1NTc0NFowIDEeMBwGA1UEAwwVRmlybXdhcmUgU2lnbmluZyBU
ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEJeMj7JddJc3oW93957rnz8Ra
HtDpBrZCqZp0Du2ahypEPmjooz0jQsli7+in+bV6S39K74yhp0FZbb4ATStfe6NT
MFEwHQYDVR0OBBYEFLvjk8a4ZnmknKLdxGHQaw7WNqyNMB8GA1UdIwQYMBaAFLvj
k8a4ZnmknKLdxGHQaw7WNqyNMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwID
RwAwRAIgWadU9eqnntb+9m/z+d/7ndpZ3j/2v93QuGZ6RHCaDT8CIC3rpsioxskx
pdlYav+nayqqsHnJRATC7egTSDwkA6XH
-----END CERTIFICATE-----
`;
const SIGNATURE = Buffer.from(randomBytes(64)).toString('base64');

const byId = (c: CampaignView) => Object.fromEntries((c.targets ?? []).map((x) => [x.chargerId, x]));
const sentTo = (id: string) => t.seen('command.sent').filter((e) => e.chargerId === id && /UpdateFirmware$/.test(e.action));

describe('firmware campaigns across OCPP versions', () => {
  it('updates a 1.6 charger and a 2.0.1 station in one campaign, each in its own version, to their boot with the new firmware', async () => {
    t = await apps.start(withFleet());
    const old = await simCharger(t, 'CP16');
    const modern = await simCharger(t, 'CS201', { v201: true });
    const file = await upload(t, FIRMWARE);
    const made = await t.api<CampaignView>('POST', '/fleet/campaigns', {
      body: { kind: 'firmware', selection: { chargerIds: ['CP16', 'CS201'] }, waveSize: 1, firmware: { fileId: file.id, retries: 3, retryInterval: 30 } },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const done = await campaignWhen(t, made.body.id, (c) => c.state === 'completed');
    expect(done.targets!.map((x) => [x.chargerId, x.state, x.oldVersion, x.newVersion, x.firmwareStatus]))
      .toEqual([['CP16', 'done', '1.0.0', '2.0.0', 'Installed'], ['CS201', 'done', '1.0.0', '2.0.0', 'Installed']]);
    expect(done.firmware).toMatchObject({ signed: false });

    expect(sentTo('CP16').map((e) => [e.action, Object.keys(e.request as object).sort()])).toEqual([['UpdateFirmware', ['location', 'retries', 'retrieveDate', 'retryInterval']]]);
    const [to201] = sentTo('CS201');
    expect(to201).toMatchObject({
      action: 'UpdateFirmware', response: { status: 'Accepted' },
      request: { requestId: modern.requests[0]!.requestId, retries: 3, retryInterval: 30, firmware: { location: expect.stringMatching(/\/api\/fleet\/files\//) } },
    });
    expect(modern.downloads).toEqual([expect.objectContaining({ status: 200, size: FIRMWARE.length })]);
    expect(old.downloads).toEqual([expect.objectContaining({ status: 200, size: FIRMWARE.length })]);
    expect(modern.statuses).toEqual(['Downloading', 'Downloaded', 'Installing', 'Installed']);
    const chargers = (await t.api<Array<{ id: string; firmwareVersion: string }>>('GET', '/chargers')).body;
    expect(chargers.map((c) => [c.id, c.firmwareVersion])).toEqual([['CP16', '2.0.0'], ['CS201', '2.0.0']]);
  }, 30_000);

  it('refuses a badly signed campaign naming the field, and sends a signed one as SignedUpdateFirmware (1.6) and UpdateFirmware with signature (2.0.1)', async () => {
    t = await apps.start(withFleet());
    const old = await simCharger(t, 'CP16');
    const modern = await simCharger(t, 'CS201', { v201: true });
    const url = 'https://files.example.org/signed.bin';
    const bad = async (firmware: Record<string, unknown>) => {
      const res = await t.api<{ errors?: Array<{ field: string }> }>('POST', '/fleet/campaigns', { body: { kind: 'firmware', selection: { chargerIds: ['CP16'] }, firmware: { url, ...firmware } } });
      expect(res.status).toBe(400);
      return res.body.errors?.map((f) => f.field);
    };
    // The missing half is named.
    expect(await bad({ signature: SIGNATURE })).toEqual(['firmware.signingCertificate']);
    expect(await bad({ signingCertificate: CERT })).toEqual(['firmware.signature']);
    expect(await bad({ signature: 'not base64!', signingCertificate: CERT })).toEqual(['firmware.signature']);
    expect(await bad({ signature: SIGNATURE, signingCertificate: 'x'.repeat(6000) })).toEqual(['firmware.signingCertificate']);
    // The shape of a PEM, but not a certificate inside.
    expect(await bad({ signature: SIGNATURE, signingCertificate: `-----BEGIN CERTIFICATE-----\n${'QUFB'.repeat(20)}\n-----END CERTIFICATE-----\n` })).toEqual(['firmware.signingCertificate']);

    const file = await upload(t, FIRMWARE);
    const made = await t.api<CampaignView>('POST', '/fleet/campaigns', {
      body: { kind: 'firmware', selection: { chargerIds: ['CP16', 'CS201'] }, firmware: { fileId: file.id, signature: SIGNATURE, signingCertificate: CERT } },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body.firmware).toMatchObject({ signed: true });
    const done = await campaignWhen(t, made.body.id, (c) => c.state === 'completed');
    expect(done.targets!.map((x) => [x.chargerId, x.state, x.newVersion])).toEqual([['CP16', 'done', '2.0.0'], ['CS201', 'done', '2.0.0']]);
    expect(sentTo('CP16').map((e) => e.action)).toEqual(['SignedUpdateFirmware']);
    expect(sentTo('CS201').map((e) => e.action)).toEqual(['UpdateFirmware']);
    for (const sim of [old, modern]) {
      expect(sim.requests).toEqual([{ requestId: expect.any(Number), signature: SIGNATURE, signingCertificate: CERT }]);
      expect(sim.statuses).toEqual(['Downloading', 'Downloaded', 'SignatureVerified', 'Installing', 'Installed']);
    }
    // Each update has an id of its own.
    expect(old.requests[0]!.requestId).not.toBe(modern.requests[0]!.requestId);
  }, 30_000);

  it('ignores a 2.0.1 notification of another update, stops on the station\'s failed install, and diagnostics flags it', async () => {
    const opts = withFleet();
    (opts.config!.plugins as Record<string, unknown>).diagnostics = {};
    t = await apps.start(opts);
    const modern = await simCharger(t, 'CS201', { v201: true, fail: 'InstallationFailed', holdInstall: true });
    const file = await upload(t, FIRMWARE);
    const made = await t.api<CampaignView>('POST', '/fleet/campaigns', { body: { kind: 'firmware', selection: { chargerIds: ['CS201'] }, firmware: { fileId: file.id } } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    await eventually(() => modern.statuses.includes('Installing'));
    const requestId = modern.requests[0]!.requestId;
    // A late notification of an earlier update: not this campaign's.
    await modern.status('InstallationFailed', requestId - 1);
    await t.app.bus.idle();
    expect(byId(await campaignWhen(t, made.body.id, () => true)).CS201).toMatchObject({ state: 'updating', firmwareStatus: 'Installing' });
    modern.release();
    const stopped = await campaignWhen(t, made.body.id, (c) => c.state === 'stopped');
    expect(byId(stopped).CS201).toMatchObject({ state: 'failed', firmwareStatus: 'InstallationFailed', error: 'the charger reported InstallationFailed' });
    const active = (await t.api<FindingView[]>('GET', '/diagnostics/findings?check=firmware-failed&state=active')).body;
    expect(active).toEqual([expect.objectContaining({ chargerId: 'CS201', message: expect.stringContaining('Firmware update of CS201 failed (InstallationFailed)') })]);
  }, 30_000);
});
