import { describe, expect, it } from 'vitest';
import { eventually, sleep, type TestApp, useApp, usePeers } from '../../tests/kit/index.js';

let t: TestApp | undefined;
const peers = usePeers();
// Registered after the peers so that it runs first: the app stops before the peers it talks to.
const apps = useApp();

describe('alerts: a flapping charger', () => {
  it('is one alert "flapping: 3 disconnects in 2 s" on a site of four chargers, notified once, resolved only after a stable window', async () => {
    const hook = await peers.receiver();
    t = await apps.start({ config: { plugins: {
      diagnostics: { offlineAfter: '3s', evaluateEvery: '10m', flapping: { count: 3, within: '2s' } },
      alerts: { channels: [{ name: 'hook', type: 'webhook', url: hook.url }] },
    } } });
    await Promise.all(['CP2', 'CP3', 'CP4'].map(async (id) => (await t!.chargePoint(id)).boot()));
    // Drops shorter than offlineAfter: no offline alert, but a flapping one.
    for (let i = 0; i < 4; i++) {
      const cp = await t.chargePoint('CP1');
      const gone = t.waitFor('charger.disconnected', (e) => e.chargerId === 'CP1');
      await cp.close({ code: 1006 as never, force: true });
      await gone;
      await sleep(100);
    }
    const upAt = Date.now();
    await t.chargePoint('CP1');
    await eventually(() => hook.calls.length === 1, 2000);
    const list = (await t.api('GET', '/alerts')).body as Array<Record<string, any>>; // any: API JSON
    expect(list.map((a) => `${a.kind} ${a.chargerId}`)).toEqual(["flapping CP1"]);
    expect(list[0]).toMatchObject({ kind: 'flapping', chargerId: 'CP1', state: 'open' });
    expect(list[0]!.message).toMatch(/flapping: 4 disconnects in 2 s/);
    expect(hook.calls[0]!.json).toMatchObject({ kind: 'flapping', chargerId: 'CP1', notice: 'raised' });
    expect(hook.calls[0]!.json.message).toMatch(/flapping: 3 disconnects in 2 s/);
    // Stable now: the resolved notice comes once a whole window has passed without a drop, not before.
    await eventually(() => hook.calls.length === 2, 5000);
    expect(Date.now() - upAt).toBeGreaterThanOrEqual(1900);
    expect(hook.calls[1]!.json).toMatchObject({ kind: 'flapping', notice: 'resolved', state: 'resolved' });
    await sleep(300);
    expect(hook.calls).toHaveLength(2);
  });
});
