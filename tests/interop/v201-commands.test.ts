import { describe, expect, it } from 'vitest';
import type { DiagnosticsFile } from '../../plugins/diagnostics/files.js';
import type { CampaignView } from '../../plugins/fleet/store.js';
import { campaignWhen, upload } from '../../plugins/fleet/test-kit.js';
import { driver } from '../../plugins/reservations/test-kit.js';
import { eventually, type TestApp, useApp } from '../kit/index.js';
import { authorize, boot, status, tx } from './day-kit.js';
import { connectStation, type Payload, type Station } from './station.js';

let t: TestApp;
const apps = useApp();
const LOG = 'iop station log\nline 2\n';

const site = () => apps.start({
  config: {
    plugins: {
      users: {}, reservations: {}, diagnostics: {},
      fleet: { checkEvery: '200ms', installTimeout: '10s', offlineWait: '10s' },
    },
  },
});

async function bootedStation(id: string, firmwareVersion = '1.0.0'): Promise<Station> {
  const st = await connectStation(t, id);
  expect((await boot(st, 'PowerUp', firmwareVersion)).status).toBe('Accepted');
  await status(st, 1, 'Available', t.clock.iso());
  return st;
}

/** Runs a station's side of a request after its answer went out, as stations do; a failure shows in `violations`. */
const later = (st: Station, work: () => Promise<void>) => {
  setTimeout(() => void work().catch((err: unknown) => st.violations.push(`station work failed: ${String(err)}`)), 5);
};

describe('the plugins\' commands to an OCPP 2.0.1 station built on typed-ocpp', () => {
  it('reserves an EVSE by ReserveNow that only the right card can use', async () => {
    t = await site();
    const st = await bootedStation('IOP-RES');
    const reserved: Payload[] = [];
    st.handle('ReserveNow', (p) => {
      reserved.push(p);
      later(st, async () => { await status(st, p.evseId ?? 1, 'Reserved', t.clock.iso()); });
      return { status: 'Accepted' };
    });
    const ann = await driver(t, 'ann', 'ANN-IOP');
    await driver(t, 'bob', 'BOB-IOP');
    const made = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'IOP-RES', connectorId: 1 } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(reserved).toEqual([{ id: made.body.id, expiryDateTime: made.body.expiresAt, idToken: { idToken: 'ANN-IOP', type: 'ISO14443' }, evseId: 1 }]);
    await eventually(async () => (await t.api('GET', '/chargers/IOP-RES')).body.connectors[0].status === 'Reserved');

    // Bob's card is known, but the EVSE is Ann's.
    expect(await authorize(st, 'BOB-IOP')).toBe('Invalid');
    const started = await tx(st, { eventType: 'Started', transactionId: 'IOP-RES-1', seqNo: 0, timestamp: t.clock.iso(), evseId: 1, idToken: 'ANN-IOP', wh: 0, reservationId: made.body.id });
    expect(started.idTokenInfo?.status).toBe('Accepted');
    await eventually(async () => (await t.api('GET', `/reservations/${made.body.id}`)).body.state === 'used');
    expect(st.violations).toEqual([]);
  });

  // Load management still sends 1.6 SetChargingProfile by name, refused for 2.0.1 stations until its
  // conversion to a neutral charging-profile command lands; then a station here answers the profile.
  it.todo('answers the charging profile load management sends (SetChargingProfile)');

  it('updates its firmware through a fleet campaign to Installed and boots with the new version', async () => {
    t = await site();
    const firmware = Buffer.alloc(4096, 7);
    const file = await upload(t, firmware);
    let st = await bootedStation('IOP-FW');
    const before = st;
    const asked: Payload[] = [];
    let downloaded = 0;
    st.handle('UpdateFirmware', (p) => {
      asked.push(p);
      const note = (s: string) => st.call('FirmwareStatusNotification', { status: s, requestId: p.requestId });
      later(st, async () => {
        await note('Downloading');
        const res = await fetch(p.firmware.location);
        downloaded = Buffer.from(await res.arrayBuffer()).length;
        await note(res.ok ? 'Downloaded' : 'DownloadFailed');
        await note('Installing');
        await note('Installed');
        await st.close();
        st = await connectStation(t, 'IOP-FW');
        await boot(st, 'FirmwareUpdate', '2.0.0');
      });
      return { status: 'Accepted' };
    });
    const made = await t.api<CampaignView>('POST', '/fleet/campaigns', { body: { kind: 'firmware', selection: { chargerIds: ['IOP-FW'] }, firmware: { fileId: file.id } } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const done = await campaignWhen(t, made.body.id, (c) => c.state !== 'running');
    expect(done.targets![0]).toMatchObject({ chargerId: 'IOP-FW', state: 'done', oldVersion: '1.0.0', newVersion: '2.0.0', firmwareStatus: 'Installed', error: null });
    expect(asked).toEqual([{ requestId: expect.any(Number), firmware: { location: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/api\/fleet\/files\//), retrieveDateTime: expect.any(String) } }]);
    expect(downloaded).toBe(firmware.length);
    expect((await t.api('GET', '/chargers/IOP-FW')).body.firmwareVersion).toBe('2.0.0');
    expect(st).not.toBe(before);
    expect([...before.violations, ...st.violations]).toEqual([]);
  });

  it('uploads its log by GetLog when diagnostics collects it', async () => {
    t = await site();
    const st = await bootedStation('IOP-LOG');
    st.handle('GetLog', (p) => {
      later(st, async () => {
        await st.call('LogStatusNotification', { status: 'Uploading', requestId: p.requestId });
        const form = new FormData();
        form.append('file', new Blob([Buffer.from(LOG)], { type: 'text/plain' }), 'iop.log');
        const res = await fetch(p.log.remoteLocation, { method: 'POST', body: form });
        await st.call('LogStatusNotification', { status: res.ok ? 'Uploaded' : 'UploadFailure', requestId: p.requestId });
      });
      return { status: 'Accepted', filename: 'iop.log' };
    });
    const res = await t.api('POST', '/diagnostics/chargers/IOP-LOG/collect', { body: {} });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const file = await eventually(async () => {
      const [f] = (await t.api<DiagnosticsFile[]>('GET', '/diagnostics/files?chargerId=IOP-LOG')).body;
      return f?.state === 'uploaded' && f.chargerStatus === 'Uploaded' ? f : null;
    });
    expect(file).toMatchObject({ fileName: 'iop.log', sizeBytes: Buffer.byteLength(LOG), chargerStatus: 'Uploaded' });
    expect(st.violations).toEqual([]);
  });
});
