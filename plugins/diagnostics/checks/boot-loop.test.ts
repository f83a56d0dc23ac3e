import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../../../tests/kit/index.js';
import { active, findings, MIN, withDiagnostics } from '../test-kit.js';

let t: TestApp;
const apps = useApp();

/** A charger that restarts: a new connection and a BootNotification each time. */
async function rebootOnce(t: TestApp, id: string): Promise<void> {
  const cp = await t.chargePoint(id);
  await cp.boot();
  await cp.close({ code: 1000 });
}

describe('boot-loop check', () => {
  it('raises after 5 boots within 10 minutes, keeps one finding for more, and clears after a quiet window', async () => {
    t = await apps.start(withDiagnostics({ bootLoop: { count: 5, within: '10m' } }));
    for (let i = 0; i < 4; i += 1) {
      await rebootOnce(t, 'CP1');
      await t.clock.advance(10_000);
    }
    expect(await active(t, 'boot-loop')).toEqual([]);
    await rebootOnce(t, 'CP1');
    const [f] = await active(t, 'boot-loop', 'CP1');
    expect(f).toMatchObject({ severity: 'critical', chargerId: 'CP1' });
    expect(f!.message).toMatch(/keeps restarting: 5 or more boots within 10 min\. Likely cause: an unstable power supply/);
    await rebootOnce(t, 'CP1');
    await rebootOnce(t, 'CP1');
    expect(await findings(t, { check: 'boot-loop' })).toEqual([expect.objectContaining({ id: f!.id, occurrences: 3 })]);

    const cp = await t.chargePoint('CP1');
    await cp.boot();
    await t.clock.advance(5 * MIN);
    expect(await active(t, 'boot-loop')).toHaveLength(1);
    await t.clock.advance(6 * MIN);
    expect(await findings(t, { check: 'boot-loop' })).toEqual([expect.objectContaining({ id: f!.id, state: 'cleared' })]);
  });

  it('does not count boots spread wider than the window', async () => {
    t = await apps.start(withDiagnostics({ bootLoop: { count: 3, within: '10m' } }));
    for (let i = 0; i < 5; i += 1) {
      await rebootOnce(t, 'CP2');
      await t.clock.advance(6 * MIN);
    }
    expect(await findings(t, { check: 'boot-loop' })).toEqual([]);
  });
});
