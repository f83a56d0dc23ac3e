import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, sleep, startApp, type TestApp, type TestChargePoint } from '../../tests/harness.js';
import { authorize, bootedCharger, createTag } from './testing.js';

interface Entry { idTag: string; idTagInfo?: { status: string; expiryDate?: string; parentIdTag?: string } }
interface SendLocalList { listVersion: number; updateType: 'Full' | 'Differential'; localAuthorizationList?: Entry[] }

/** What a charger with a Local Authorization List holds; survives reconnects like a real charger's flash. */
interface SimState {
  version: number;
  list: Map<string, Entry['idTagInfo']>;
  received: SendLocalList[];
  clearCache: number;
  cacheEnabled: boolean;
  /** Answer the next differential update with this status instead of applying it. */
  refuseNextDifferential?: string;
}

const newSim = (): SimState => ({ version: 0, list: new Map(), received: [], clearCache: 0, cacheEnabled: true });

/** Teaches a test charge point the Local Auth List Management profile. */
function simulate(cp: TestChargePoint, s: SimState): SimState {
  cp.handle('GetConfiguration', () => ({
    configurationKey: [
      { key: 'AuthorizationCacheEnabled', readonly: false, value: String(s.cacheEnabled) },
      { key: 'LocalAuthListEnabled', readonly: false, value: 'true' },
    ],
  }));
  cp.handle('GetLocalListVersion', () => ({ listVersion: s.version }));
  cp.handle('ClearCache', () => { s.clearCache++; return { status: 'Accepted' }; });
  cp.handle('SendLocalList', ({ params }: { params: SendLocalList }) => {
    s.received.push(params);
    if (params.updateType === 'Differential' && s.refuseNextDifferential) {
      const status = s.refuseNextDifferential;
      s.refuseNextDifferential = undefined;
      return { status };
    }
    if (params.updateType === 'Full') s.list.clear();
    for (const e of params.localAuthorizationList ?? []) {
      if (e.idTagInfo) s.list.set(e.idTag, e.idTagInfo);
      else s.list.delete(e.idTag);
    }
    s.version = params.listVersion;
    return { status: 'Accepted' };
  });
  return s;
}

async function simCharger(t: TestApp, id: string, s = newSim()): Promise<{ cp: TestChargePoint; sim: SimState }> {
  const cp = await t.chargePoint(id);
  simulate(cp, s);
  expect((await cp.boot()).status).toBe('Accepted');
  return { cp, sim: s };
}

const received = async (sim: SimState, n: number) => {
  await eventually(() => sim.received.length >= n);
  return sim.received[n - 1]!;
};
const statusOf = (sim: SimState) => Object.fromEntries([...sim.list].map(([k, v]) => [k, v?.status]));

let t: TestApp;
beforeAll(async () => {
  t = await startApp({ config: { plugins: { users: {} } } });
  await bootedCharger(t, 'LL-OTHER');
});
afterAll(async () => { await t?.stop(); });

describe('Local Authorization Lists over real OCPP', () => {
  it('sends a full list at boot, then differential updates with advancing versions, and clears caches on revocation', async () => {
    await createTag(t, { idTag: 'LL-T1' });
    await createTag(t, { idTag: 'LL-ELSEWHERE', chargerIds: ['LL-OTHER'] });
    const { sim } = await simCharger(t, 'LL-1');

    const full = await received(sim, 1);
    expect(full.updateType).toBe('Full');
    expect(full.listVersion).toBeGreaterThan(0);
    expect(statusOf(sim)).toEqual({ 'LL-T1': 'Accepted' });

    await createTag(t, { idTag: 'LL-T3', expiresAt: '2031-05-01T12:00:00Z' });
    const add = await received(sim, 2);
    expect(add).toEqual({ listVersion: expect.any(Number), updateType: 'Differential', localAuthorizationList: [{ idTag: 'LL-T3', idTagInfo: { status: 'Accepted', expiryDate: '2031-05-01T12:00:00.000Z' } }] });
    expect(add.listVersion).toBeGreaterThan(full.listVersion);
    expect(sim.clearCache).toBe(0);

    await t.api('PATCH', '/tags/ll-t1', { body: { status: 'Blocked' } });
    const block = await received(sim, 3);
    expect(block.updateType).toBe('Differential');
    expect(block.listVersion).toBeGreaterThan(add.listVersion);
    expect(block.localAuthorizationList).toEqual([{ idTag: 'LL-T1', idTagInfo: { status: 'Blocked' } }]);
    await eventually(() => sim.clearCache === 1);

    await t.api('DELETE', '/tags/LL-T3');
    const removal = await received(sim, 4);
    expect(removal.localAuthorizationList).toEqual([{ idTag: 'LL-T3' }]);
    expect(removal.listVersion).toBeGreaterThan(block.listVersion);
    await eventually(() => sim.clearCache === 2);
    expect(statusOf(sim)).toEqual({ 'LL-T1': 'Blocked' });

    const state = await t.api('GET', '/local-lists');
    expect(state.body.chargers.find((c: { chargerId: string }) => c.chargerId === 'LL-1')).toMatchObject({
      supported: true, listVersion: removal.listVersion, cacheEnabled: true, dirty: false, clearCacheWanted: null,
    });
    expect(state.body.listVersion).toBe(removal.listVersion);
  });

  it('gives a charger that missed updates while offline a full list and a cache clear when it is back', async () => {
    await createTag(t, { idTag: 'LL-KEEP' });
    const first = await simCharger(t, 'LL-2');
    await received(first.sim, 1);
    await first.cp.close({ code: 1000 });
    await eventually(async () => !(await t.api('GET', '/chargers')).body.find((c: { id: string }) => c.id === 'LL-2').online);

    await createTag(t, { idTag: 'LL-NEW' });
    await t.api('PATCH', '/tags/LL-KEEP', { body: { status: 'Blocked' } });
    await sleep(300);
    expect(first.sim.received).toHaveLength(1);
    const before = first.sim.version;

    const again = await simCharger(t, 'LL-2', first.sim);
    const full = await received(again.sim, 2);
    expect(full.updateType).toBe('Full');
    expect(full.listVersion).toBeGreaterThan(before);
    expect(statusOf(again.sim)).toMatchObject({ 'LL-NEW': 'Accepted', 'LL-KEEP': 'Blocked' });
    await eventually(() => again.sim.clearCache === 1);
  });

  it('catches up a charger that reconnects without rebooting with a differential update', async () => {
    const first = await simCharger(t, 'LL-4');
    await received(first.sim, 1);
    await first.cp.close({ code: 1000 });
    await eventually(async () => !(await t.api('GET', '/chargers')).body.find((c: { id: string }) => c.id === 'LL-4').online);
    await createTag(t, { idTag: 'LL-WHILE-AWAY' });
    const back = await t.chargePoint('LL-4');
    simulate(back, first.sim);
    const diff = await received(first.sim, 2);
    expect(diff.updateType).toBe('Differential');
    expect(diff.localAuthorizationList).toEqual([{ idTag: 'LL-WHILE-AWAY', idTagInfo: { status: 'Accepted' } }]);
  });

  it('falls back to a full list when the charger refuses a differential update', async () => {
    const { sim } = await simCharger(t, 'LL-3');
    await received(sim, 1);
    sim.refuseNextDifferential = 'VersionMismatch';
    await createTag(t, { idTag: 'LL-AFTER-MISMATCH' });
    const diff = await received(sim, 2);
    expect(diff.updateType).toBe('Differential');
    const full = await received(sim, 3);
    expect(full.updateType).toBe('Full');
    expect(statusOf(sim)['LL-AFTER-MISMATCH']).toBe('Accepted');
  });

  it('skips chargers without a local list and clears only caches that are enabled', async () => {
    const plain = await t.chargePoint('LL-PLAIN');
    let plainClears = 0;
    plain.handle('ClearCache', () => { plainClears++; return { status: 'Accepted' }; });
    plain.handle('GetLocalListVersion', () => ({ listVersion: -1 }));
    await plain.boot();
    const noCache = newSim();
    noCache.cacheEnabled = false;
    const { sim } = await simCharger(t, 'LL-NOCACHE', noCache);
    await received(sim, 1);
    await eventually(async () => (await t.api('GET', '/local-lists')).body.chargers.find((c: { chargerId: string }) => c.chargerId === 'LL-PLAIN')?.supported === false);

    await createTag(t, { idTag: 'LL-GONE' });
    await received(sim, 2);
    await t.api('DELETE', '/tags/LL-GONE');
    await received(sim, 3);
    await eventually(() => plainClears === 1);
    expect(sim.clearCache).toBe(0);
    // Authorization itself still works online for the charger without a list.
    await createTag(t, { idTag: 'LL-ONLINE' });
    expect((await authorize(plain, 'LL-ONLINE')).status).toBe('Accepted');
  });
});

describe('list size', () => {
  it('keeps at most maxEntries cards in a list, accepted cards first', async () => {
    const t2 = await startApp({ config: { plugins: { users: { localList: { maxEntries: 2 } } } } });
    try {
      await t2.api('POST', '/tags/import', { raw: 'idTag,status\nA-BLOCKED,Blocked\nB-OK,Accepted\nC-OK,Accepted\nD-OK,Accepted\n', headers: { 'content-type': 'text/csv' } });
      const { sim } = await simCharger(t2, 'SMALL');
      const full = await received(sim, 1);
      expect(full.localAuthorizationList?.map((e) => e.idTag)).toEqual(['B-OK', 'C-OK']);
    } finally {
      await t2.stop();
    }
  });
});
