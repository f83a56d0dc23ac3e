import { describe, expect, it } from 'vitest';
import { Accounts } from '../../core/accounts.js';
import type { Role } from '../../core/types.js';
import { type TestApp, useApp } from '../../tests/kit/index.js';
import type { CampaignView } from './store.js';
import { campaign, campaignWhen, upload, withFleet } from './test-kit.js';

let t: TestApp;
const apps = useApp();

async function tokenFor(role: Role): Promise<string> {
  const accounts = new Accounts(t.app.db, t.clock, 3_600_000);
  await accounts.create({ username: `fleet-${role}`, role, password: `${role}-secret-pw` });
  return t.login(`fleet-${role}`, `${role}-secret-pw`);
}

const post = (body: unknown, token?: string) => t.api('POST', '/fleet/campaigns', { body, ...(token ? { token } : {}) });
const fields = (res: { body: { errors?: Array<{ field: string }> } }) => (res.body.errors ?? []).map((e) => e.field);

describe('fleet API input and roles', () => {
  it('answers 400 naming each bad field of a campaign', async () => {
    t = await apps.start(withFleet({ groups: { 'garage-a': ['CP1'] }, maxFirmwareBytes: 4096 }));
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const fw = { url: 'https://files.example.org/fw.bin' };
    const cases: Array<[unknown, string[]]> = [
      [{ kind: 'bios', selection: { chargerIds: ['CP1'] }, firmware: fw }, ['kind']],
      [{ kind: 'firmware', selection: { chargerIds: ['CP1'] }, waveSize: 0, firmware: fw }, ['waveSize']],
      [{ kind: 'firmware', selection: { chargerIds: ['CP1'] }, waveSize: 51, firmware: fw }, ['waveSize']],
      [{ kind: 'firmware', selection: { chargerIds: ['CP1'] }, firmware: { url: 'file:///etc/passwd' } }, ['firmware.url']],
      [{ kind: 'firmware', selection: { chargerIds: ['CP1'] }, firmware: { url: 'javascript:alert(1)' } }, ['firmware.url']],
      [{ kind: 'firmware', selection: { chargerIds: ['CP1'] }, firmware: { url: fw.url, fileId: 1 } }, ['firmware']],
      [{ kind: 'firmware', selection: { chargerIds: ['CP1'] }, firmware: { fileId: 99 } }, ['firmware.fileId']],
      [{ kind: 'firmware', selection: { chargerIds: ['CP1'] } }, ['firmware']],
      [{ kind: 'firmware', selection: {}, firmware: fw }, ['selection']],
      [{ kind: 'firmware', selection: { group: 'garage-b' }, firmware: fw }, ['selection.group']],
      [{ kind: 'firmware', selection: { chargerIds: ['CP1', 'NOPE'] }, firmware: fw }, ['selection.chargerIds']],
      [{ kind: 'firmware', selection: { chargerIds: Array.from({ length: 501 }, (_, i) => `X${i}`) }, firmware: fw }, ['selection.chargerIds']],
      [{ kind: 'firmware', selection: { model: 'NoSuchModel' }, firmware: fw }, ['selection']],
      [{ kind: 'firmware', selection: { chargerIds: ['CP1'] }, firmware: fw, extra: 1 }, ['extra']],
      [{ kind: 'configuration', selection: { chargerIds: ['CP1'] } }, ['configuration']],
      [{ kind: 'configuration', selection: { chargerIds: ['CP1'] }, configuration: { key: 'a b', value: 'x'.repeat(501) } }, ['configuration.key', 'configuration.value']],
      [{ kind: 'configuration', selection: { chargerIds: ['CP1'] }, configuration: { key: 'K', value: '1' }, firmware: fw }, ['firmware']],
      ['not an object', ['body']],
    ];
    for (const [body, want] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(fields(res), JSON.stringify(res.body).slice(0, 300)).toEqual(want);
    }
    // Nothing was stored, and the bad values are not written to the log.
    expect(Number((await t.app.db('fleet_campaigns').count({ n: '*' }).first())?.n)).toBe(0);
    expect(t.logs.join('\n')).not.toContain('javascript:alert');

    // Uploads: empty, too large, not octet-stream.
    const token = await t.login();
    const up = (body: BodyInit, type = 'application/octet-stream') => fetch(`${t.url}/api/fleet/firmware?name=a.bin`, { method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': type } });
    expect((await up(Buffer.alloc(0))).status).toBe(400);
    expect((await up(Buffer.alloc(5000))).status).toBe(413);
    expect((await up('{}', 'application/json')).status).toBe(415);
    const file = await upload(t, Buffer.alloc(2000, 1), '../../evil name.bin');
    expect((await t.api('GET', '/fleet/firmware')).body).toEqual([expect.objectContaining({ id: file.id, name: 'evil_name.bin', sizeBytes: 2000 })]);
  });

  it('lets only installers and admins start and steer campaigns, staff read them, and refuses a charger already in one', async () => {
    t = await apps.start(withFleet());
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    cp.handle('UpdateFirmware', () => ({}));
    const body = { kind: 'firmware', selection: { chargerIds: ['CP1'] }, firmware: { url: 'http://files.example.org/fw.bin' } };
    const tech = await tokenFor('technician');
    const viewer = await tokenFor('viewer');
    const installer = await tokenFor('installer');
    expect((await post(body, tech)).status).toBe(403);
    expect((await post(body, viewer)).status).toBe(403);
    expect((await t.api('POST', '/fleet/campaigns', { body, token: null })).status).toBe(401);
    const made = await post(body, installer);
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ createdBy: 'fleet-installer', state: 'running', kind: 'firmware' });
    expect((await t.api<CampaignView[]>('GET', '/fleet/campaigns', { token: viewer })).body.map((c) => c.id)).toEqual([made.body.id]);
    expect((await t.api('POST', `/fleet/campaigns/${made.body.id}/cancel`, { token: tech })).status).toBe(403);

    const twice = await post(body, installer);
    expect(twice.status).toBe(409);
    expect(twice.body.message).toMatch(/CP1 \(campaign 1\)/);
    expect((await t.api('POST', `/fleet/campaigns/${made.body.id}/resume`)).status).toBe(409);
    expect((await t.api('GET', '/fleet/campaigns/999')).status).toBe(404);
    expect((await t.api('GET', '/fleet/campaigns/abc')).status).toBe(400);
    expect((await t.api('POST', `/fleet/campaigns/${made.body.id}/cancel`)).status).toBe(200);
    expect((await t.api('POST', `/fleet/campaigns/${made.body.id}/cancel`)).status).toBe(409);
    const preview = await t.api('POST', '/fleet/selection', { body: { selection: { model: 'TestModel' } }, token: viewer });
    expect(preview.body).toEqual([{ id: 'CP1', name: null, online: true, vendor: 'TestVendor', model: 'TestModel', firmwareVersion: '1.0.0' }]);
  });

  it('stops on a charger that refuses UpdateFirmware, and does not resume while that charger is busy in another campaign', async () => {
    t = await apps.start(withFleet());
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    let refuse = true;
    cp.handle('UpdateFirmware', () => {
      if (refuse) throw new Error('busy');
      return {};
    });
    const body = { kind: 'firmware', selection: { chargerIds: ['CP1'] }, firmware: { url: 'http://files.example.org/fw.bin' } };
    const first = await post(body);
    const stopped = await campaignWhen(t, first.body.id, (c) => c.state === 'stopped');
    expect(stopped.targets![0]).toMatchObject({ state: 'failed', error: 'refused UpdateFirmware: GenericError' });
    refuse = false;
    const second = await post(body);
    expect(second.status).toBe(201);
    await campaignWhen(t, second.body.id, (c) => c.targets![0]!.state === 'updating');
    const resumed = await t.api('POST', `/fleet/campaigns/${first.body.id}/resume`);
    expect(resumed.status).toBe(409);
    expect(resumed.body.message).toBe(`already in a campaign that is not finished: CP1 (campaign ${second.body.id}); finish or cancel it first`);
    expect((await campaign(t, first.body.id)).state).toBe('stopped');
  });
});
