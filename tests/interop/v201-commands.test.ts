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

  it('answers the charging profiles load management sends, each valid for typed-ocpp, with the circuit\'s share', async () => {
    t = await apps.start({ config: { plugins: { users: {}, loadbalancing: { circuits: [{ id: 'main', maxCurrent: 20, chargers: ['IOP-LB'] }] } } } });
    const st = await connectStation(t, 'IOP-LB');
    const profiles: Payload[] = [];
    st.handle('GetVariables', (p) => ({
      getVariableResult: p.getVariableData.map((d: Payload) => (d.component.name === 'SmartChargingCtrlr' && d.variable.name === 'RateUnit'
        ? { attributeStatus: 'Accepted', attributeValue: 'A', component: d.component, variable: d.variable }
        : { attributeStatus: 'UnknownVariable', component: d.component, variable: d.variable })),
    }));
    st.handle('SetChargingProfile', (p) => { profiles.push(p); return { status: 'Accepted' }; });
    st.handle('GetCompositeSchedule', (p) => ({
      status: 'Accepted',
      schedule: { evseId: p.evseId, duration: p.duration, scheduleStart: t.clock.iso(), chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 20 }] },
    }));
    expect((await boot(st, 'PowerUp')).status).toBe('Accepted');
    await status(st, 1, 'Available', t.clock.iso());
    await driver(t, 'ann', 'ANN-LB');
    await tx(st, { eventType: 'Started', transactionId: 'IOP-LB-1', seqNo: 0, timestamp: t.clock.iso(), evseId: 1, idToken: 'ANN-LB', wh: 0 });
    // The station's own transaction id names the session's profile; no schedule asks for more than the fuse.
    await eventually(() => profiles.some((p) => p.chargingProfile.chargingProfilePurpose === 'TxProfile'), 10_000);
    const session = profiles.find((p) => p.chargingProfile.chargingProfilePurpose === 'TxProfile')!;
    expect(session).toMatchObject({ evseId: 1, chargingProfile: { transactionId: 'IOP-LB-1' } });
    for (const p of profiles) {
      for (const period of p.chargingProfile.chargingSchedule[0].chargingSchedulePeriod) expect(period.limit).toBeLessThanOrEqual(20);
    }
    expect(st.violations).toEqual([]);
  });

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
