import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, type TestApp, useApp, useTeardown } from '../../tests/kit/index.js';
import type { CampaignView } from './store.js';
import { campaign, campaignWhen, simCharger, upload, withFleet, type SimCharger } from './test-kit.js';

// Declared before the apps: after-hooks run last-declared first, so an app stops before its data dir goes.
const defer = useTeardown();
const apps = useApp();

/** A data dir kept across the restart, removed after the test once its app has stopped. */
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-restart-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const byId = (c: CampaignView) => Object.fromEntries((c.targets ?? []).map((x) => [x.chargerId, x]));

describe('a campaign across an appliance restart', () => {
  it('keeps following the installing canary and sends the pending chargers once the appliance is back', async () => {
    const dir = dataDir();
    const t: TestApp = await apps.start(withFleet({}, dir));
    const sims: Record<string, SimCharger> = {};
    for (const id of ['CP1', 'CP2', 'CP3']) sims[id] = await simCharger(t, id, id === 'CP1' ? { holdInstall: true } : {});
    const file = await upload(t, Buffer.alloc(50_000, 7));
    const made = await t.api<CampaignView>('POST', '/fleet/campaigns', {
      body: { kind: 'firmware', selection: { chargerIds: ['CP1', 'CP2', 'CP3'] }, waveSize: 2, firmware: { fileId: file.id } },
    });
    expect(made.status).toBe(201);
    await eventually(async () => byId(await campaign(t, made.body.id)).CP1!.firmwareStatus === 'Installing');

    // The appliance stops while the canary installs, and boots again on the same data dir; the chargers reconnect.
    await t.restart(withFleet({}, dir).config);
    const after = byId(await campaign(t, made.body.id));
    expect(after.CP1).toMatchObject({ state: 'updating', firmwareStatus: 'Installing', oldVersion: '1.0.0' });
    expect(after.CP2).toMatchObject({ state: 'pending' });
    for (const s of Object.values(sims)) await s.reconnect();
    sims.CP1!.release();

    const done = await campaignWhen(t, made.body.id, (c) => c.state === 'completed');
    expect(done.targets!.map((x) => [x.chargerId, x.state, x.oldVersion, x.newVersion])).toEqual([
      ['CP1', 'done', '1.0.0', '2.0.0'], ['CP2', 'done', '1.0.0', '2.0.0'], ['CP3', 'done', '1.0.0', '2.0.0'],
    ]);
    // The second wave was sent by the restarted appliance: its links name the port it listens on now.
    expect(sims.CP2!.locations[0]).toMatch(new RegExp(`^${t.url}/api/fleet/files/`));
    expect(sims.CP1!.locations).toHaveLength(1);
  }, 40_000);

  it('keeps a reboot deferred by a session across a restart, and reboots once that session stops', async () => {
    const dir = dataDir();
    const t: TestApp = await apps.start(withFleet({}, dir));
    const sim = await simCharger(t, 'CP1', { configAnswer: () => 'RebootRequired' });
    const tx = await sim.startSession();
    const made = await t.api<CampaignView>('POST', '/fleet/campaigns', {
      body: { kind: 'configuration', selection: { chargerIds: ['CP1'] }, configuration: { key: 'ConnectionTimeOut', value: '90', reboot: true } },
    });
    await campaignWhen(t, made.body.id, (c) => c.targets![0]!.note === 'reboot waits for the session on connector 1 to end');

    await t.restart(withFleet({}, dir).config);
    await sim.reconnect();
    // Ticks of the restarted appliance go by: the session still runs, nothing is reset.
    await new Promise((r) => setTimeout(r, 1500));
    expect(sim.resets).toBe(0);
    expect(byId(await campaign(t, made.body.id)).CP1).toMatchObject({ state: 'reboot-wait', answer: 'RebootRequired' });

    await sim.stopSession(tx);
    const done = await campaignWhen(t, made.body.id, (c) => c.state === 'completed');
    expect(byId(done).CP1).toMatchObject({ state: 'done', answer: 'RebootRequired' });
    expect(sim.resets).toBe(1);
  }, 40_000);
});
