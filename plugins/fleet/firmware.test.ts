import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, type TestApp, useApp } from '../../tests/kit/index.js';
import type { CampaignView } from './store.js';
import { campaign, campaignWhen, simCharger, upload, withFleet, type SimCharger } from './test-kit.js';

let t: TestApp;
const apps = useApp();
const FIRMWARE = Buffer.from(randomBytes(200_000));
const SHA = createHash('sha256').update(FIRMWARE).digest('hex');

const until = (id: number, state: CampaignView['state'], ms = 15_000) => campaignWhen(t, id, (c) => c.state === state, ms);

const byId = (c: CampaignView) => Object.fromEntries((c.targets ?? []).map((x) => [x.chargerId, x]));

describe('firmware campaigns', () => {
  it('updates one charger first, then the rest in waves; the first failure stops the campaign and skips the rest; resume finishes it', async () => {
    t = await apps.start(withFleet({ groups: { 'garage-a': ['CP1', 'CP2', 'CP3', 'CP4', 'CP5'], other: ['CP9'] } }));
    const sims: Record<string, SimCharger> = {};
    for (const id of ['CP1', 'CP2', 'CP3', 'CP4', 'CP5']) sims[id] = await simCharger(t, id, id === 'CP3' ? { fail: 'InstallationFailed' } : {});
    const file = await upload(t, FIRMWARE);
    expect(file).toMatchObject({ sha256: SHA, sizeBytes: FIRMWARE.length });
    const stored = readFileSync(join(t.dataDir, 'fleet', 'firmware', (await t.app.db('fleet_files').first('stored_path')).stored_path.split('/').pop()));
    expect(stored.equals(FIRMWARE)).toBe(true);

    // While the canary updates, a charger of a later wave reporting a failure moves nothing.
    const made = await t.api<CampaignView>('POST', '/fleet/campaigns', {
      body: { kind: 'firmware', name: 'Spring update', selection: { group: 'garage-a' }, waveSize: 2, firmware: { fileId: file.id } },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body.currentWave).toBe(0);
    expect(made.body.targets!.map((x) => [x.chargerId, x.wave])).toEqual([['CP1', 0], ['CP2', 1], ['CP3', 1], ['CP4', 2], ['CP5', 2]]);
    await sims.CP5!.status('InstallationFailed');
    await eventually(() => sims.CP1!.locations.length === 1);
    expect(sims.CP1!.locations[0]).toMatch(new RegExp(`^${t.url}/api/fleet/files/[A-Za-z0-9_-]{32}/fw-2\\.0\\.0\\.bin$`));

    const stopped = await until(made.body.id, 'stopped');
    const r = byId(stopped);
    expect(r.CP1).toMatchObject({ state: 'done', oldVersion: '1.0.0', newVersion: '2.0.0', firmwareStatus: 'Installed', error: null, downloads: 1 });
    expect(r.CP3).toMatchObject({ state: 'failed', firmwareStatus: 'InstallationFailed', error: 'the charger reported InstallationFailed', newVersion: null });
    expect(r.CP4).toMatchObject({ state: 'skipped' });
    expect(r.CP5).toMatchObject({ state: 'skipped', firmwareStatus: null });
    expect(stopped.stopReason).toBe('CP3 failed: the charger reported InstallationFailed');
    // CP2 was already updating in CP3's wave: it is followed to its end.
    expect(byId(await campaignWhen(t, made.body.id, (c) => byId(c).CP2!.state === 'done')).CP2).toMatchObject({ newVersion: '2.0.0' });
    // The canary was done before the second wave got anything; the third wave got nothing.
    expect(Date.parse(r.CP2!.sentAt!)).toBeGreaterThanOrEqual(Date.parse(r.CP1!.finishedAt!));
    expect(Date.parse(r.CP3!.sentAt!)).toBeGreaterThanOrEqual(Date.parse(r.CP1!.finishedAt!));
    expect(sims.CP2!.locations).toHaveLength(1);
    expect(sims.CP4!.locations).toEqual([]);
    expect(sims.CP5!.locations).toEqual([]);
    for (const id of ['CP1', 'CP2', 'CP3']) expect(sims[id]!.downloads).toEqual([{ status: 200, size: FIRMWARE.length, sha256: SHA }]);
    expect((await t.api('GET', '/chargers')).body.find((c: { id: string }) => c.id === 'CP1').firmwareVersion).toBe('2.0.0');

    // The installer fixes CP3's problem and resumes: CP3, then the third wave.
    sims.CP3!.fix();
    const resumed = await t.api<CampaignView>('POST', `/fleet/campaigns/${made.body.id}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body.state).toBe('running');
    const done = await until(made.body.id, 'completed');
    expect(done.targets!.map((x) => [x.chargerId, x.state, x.newVersion])).toEqual(
      ['CP1', 'CP2', 'CP3', 'CP4', 'CP5'].map((id) => [id, 'done', '2.0.0']),
    );
    expect(done.counts).toEqual({ done: 5 });
    expect((await t.api('GET', '/audit?action=fleet.campaign-resumed')).body[0]).toMatchObject({ actor: 'admin', target: `campaign ${made.body.id}` });
  }, 60_000);

  it('gives each charger its own link: refused the second time, for a wrong token, past its request count and once expired', async () => {
    t = await apps.start(withFleet({ maxDownloads: 2, linkTtl: '5s', installTimeout: '1h' }));
    const file = await upload(t, FIRMWARE, 'x.bin');
    // A charger that takes the link and leaves the download to the test.
    const cp = await t.chargePoint('CP7');
    await cp.boot();
    const got: string[] = [];
    cp.handle('UpdateFirmware', ({ params }: { params: { location: string } }) => { got.push(params.location); return {}; });
    const made = await t.api<CampaignView>('POST', '/fleet/campaigns', { body: { kind: 'firmware', selection: { chargerIds: ['CP7'] }, firmware: { fileId: file.id } } });
    expect(made.status).toBe(201);
    const link = await eventually(() => got[0]) as string;
    const first = await fetch(link);
    expect(first.status).toBe(200);
    expect(Buffer.from(await first.arrayBuffer()).equals(FIRMWARE)).toBe(true);
    // A retry may resume where it broke off.
    const part = await fetch(link, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(FIRMWARE.subarray(100, 200))).toBe(true);
    const third = await fetch(link);
    expect(third.status).toBe(409);
    expect((await third.json()).message).toMatch(/used 2 time/);
    const wrong = link.replace(/files\/[^/]+/, `files/${'A'.repeat(32)}`);
    expect((await fetch(wrong)).status).toBe(404);
    expect((await fetch(`${t.url}/api/fleet/files/..%2F..%2Fetc`)).status).toBe(404);
    expect(byId(await campaign(t, made.body.id)).CP7).toMatchObject({ state: 'updating', downloads: 2 });

    // A fresh campaign's link expires after linkTtl.
    expect((await t.api('POST', `/fleet/campaigns/${made.body.id}/cancel`)).status).toBe(200);
    await cp.call('FirmwareStatusNotification', { status: 'DownloadFailed' });
    await eventually(async () => byId(await campaign(t, made.body.id)).CP7!.state === 'failed');
    const again = await t.api<CampaignView>('POST', '/fleet/campaigns', { body: { kind: 'firmware', selection: { chargerIds: ['CP7'] }, firmware: { fileId: file.id } } });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    const second = await eventually(() => got[1]) as string;
    expect(second).not.toBe(link);
    await t.clock.advance(6_000);
    expect((await fetch(second)).status).toBe(403);
    // The cancelled campaign followed its updating charger to the end and says why it ended.
    expect(await campaign(t, made.body.id)).toMatchObject({ state: 'cancelled', stopReason: 'cancelled by admin' });
  }, 30_000);

  it('waits for an offline charger and goes on when it comes back; sends a URL given instead of a file as it is', async () => {
    t = await apps.start(withFleet());
    const cp = await t.chargePoint('CP8');
    await cp.boot({ firmwareVersion: '1.0.0' });
    await cp.close({ code: 1000, force: true });
    await eventually(async () => !(await t.api('GET', '/chargers/CP8')).body.online);
    const url = 'ftp://user:secret@files.example.org/fw/cp8-2.0.0.bin';
    const made = await t.api<CampaignView>('POST', '/fleet/campaigns', { body: { kind: 'firmware', selection: { chargerIds: ['CP8'] }, firmware: { url, retries: 2, retryInterval: 60 } } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body.firmware).toMatchObject({ file: null, url: 'ftp://user:redacted@files.example.org/fw/cp8-2.0.0.bin' });
    const waiting = await campaignWhen(t, made.body.id, (c) => Boolean(byId(c).CP8!.note?.startsWith('offline')));
    expect(byId(waiting).CP8).toMatchObject({ state: 'pending', note: 'offline; waiting up to 10s for it to come back' });

    const sim = await simCharger(t, 'CP8');
    // The simulator cannot reach example.org: it reports DownloadFailed, and the campaign stops on it.
    const stopped = await until(made.body.id, 'stopped');
    expect(sim.locations).toEqual([url]);
    expect(byId(stopped).CP8).toMatchObject({ state: 'failed', firmwareStatus: 'DownloadFailed', oldVersion: '1.0.0' });
    const sent = t.seen('command.sent').find((e) => e.action === 'UpdateFirmware')!;
    expect(sent.request).toMatchObject({ location: 'ftp://user:redacted@files.example.org/fw/cp8-2.0.0.bin', retries: 2, retryInterval: 60 });
    expect(existsSync(join(t.dataDir, 'fleet'))).toBe(false);
  }, 30_000);

  it('fails a charger that stays offline longer than offlineWait, and one that never boots with a new version', async () => {
    t = await apps.start(withFleet({ offlineWait: '1s', installTimeout: '2s' }));
    const quiet = await t.chargePoint('CP1');
    await quiet.boot();
    quiet.handle('UpdateFirmware', () => ({}));
    const made = await t.api<CampaignView>('POST', '/fleet/campaigns', { body: { kind: 'firmware', selection: { chargerIds: ['CP1'] }, firmware: { url: 'https://files.example.org/a.bin' } } });
    const stopped = await until(made.body.id, 'stopped');
    expect(byId(stopped).CP1).toMatchObject({ state: 'failed', error: 'no boot with a new firmware version within 2s of UpdateFirmware (last status: none)' });

    const gone = await t.chargePoint('CP2');
    await gone.boot();
    await gone.close({ code: 1000, force: true });
    const second = await t.api<CampaignView>('POST', '/fleet/campaigns', { body: { kind: 'firmware', selection: { chargerIds: ['CP2'] }, firmware: { url: 'https://files.example.org/a.bin' } } });
    expect(byId(await until(second.body.id, 'stopped')).CP2).toMatchObject({ state: 'failed', error: 'offline for more than 1s' });
  }, 30_000);
});
