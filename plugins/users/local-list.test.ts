import ocppRpc from 'ocpp-rpc';
import { beforeAll, describe, expect, it } from 'vitest';
import { bootedCharger, createTag, eventually, sleep, type TestApp, type TestChargePoint, useApp } from '../../tests/kit/index.js';
import { authorize } from './test-kit.js';

const { createRPCError } = ocppRpc;

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
  /** SendLocalListMaxLength to report; a longer SendLocalList gets the CALLERROR real chargers answer. */
  sendMaxLength?: number;
  /** Answer the `request`th SendLocalList received (1-based) with this status, or a CALLERROR, instead of applying it. */
  refuse?: { request: number; answer: 'Failed' | 'CALLERROR' };
}

const newSim = (): SimState => ({ version: 0, list: new Map(), received: [], clearCache: 0, cacheEnabled: true });

/** Teaches a test charge point the Local Auth List Management profile. */
function simulate(cp: TestChargePoint, s: SimState): SimState {
  cp.handle('GetConfiguration', () => ({
    configurationKey: [
      { key: 'AuthorizationCacheEnabled', readonly: false, value: String(s.cacheEnabled) },
      { key: 'LocalAuthListEnabled', readonly: false, value: 'true' },
      ...(s.sendMaxLength === undefined ? [] : [{ key: 'SendLocalListMaxLength', readonly: true, value: String(s.sendMaxLength) }]),
    ],
  }));
  cp.handle('GetLocalListVersion', () => ({ listVersion: s.version }));
  cp.handle('ClearCache', () => { s.clearCache++; return { status: 'Accepted' }; });
  cp.handle('SendLocalList', ({ params }: { params: SendLocalList }) => {
    s.received.push(params);
    const entries = params.localAuthorizationList?.length ?? 0;
    if (s.sendMaxLength !== undefined && entries > s.sendMaxLength) throw createRPCError('OccurenceConstraintViolation', `${entries} entries, at most ${s.sendMaxLength}`);
    if (s.refuse?.request === s.received.length) {
      if (s.refuse.answer === 'CALLERROR') throw createRPCError('InternalError', 'flash write failed');
      return { status: s.refuse.answer };
    }
    // As real chargers do (MicroOcpp for one): a differential must raise the version the charger holds.
    if (params.updateType === 'Differential' && params.listVersion <= s.version) return { status: 'VersionMismatch' };
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
const apps = useApp();
beforeAll(async () => {
  t = await apps.start({ config: { plugins: { users: {} } } });
  await bootedCharger(t, 'LL-OTHER');
});

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

  it('forgets the list of a charger an operator removed, so one registering later under that id starts with a full list', async () => {
    await createTag(t, { idTag: 'LL-GONE-T' });
    const { cp, sim } = await simCharger(t, 'LL-GONE');
    await received(sim, 1);
    const listed = async () => (await t.api('GET', '/local-lists')).body.chargers.some((c: { chargerId: string }) => c.chargerId === 'LL-GONE');
    await eventually(listed);
    const deleted = t.waitFor('charger.deleted', (e) => e.chargerId === 'LL-GONE');
    expect((await t.api('DELETE', '/chargers/LL-GONE')).status).toBe(204);
    expect(await deleted).toMatchObject({ by: 'admin' });
    await t.app.bus.idle();
    expect(await listed()).toBe(false);
    expect(await t.app.db('users_local_list_entries').where({ charger_id: 'LL-GONE' })).toEqual([]);
    await cp.close({ code: 1000, force: true }).catch(() => undefined);
    // The same id comes back (a replaced unit): it gets the whole list again.
    const again = await simCharger(t, 'LL-GONE');
    expect((await received(again.sim, 1)).updateType).toBe('Full');
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
    const t2 = await apps.start({ config: { plugins: { users: { localList: { maxEntries: 2 } } } } });
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

describe('lists longer than SendLocalListMaxLength', () => {
  let t3: TestApp;
  const apps = useApp();
  beforeAll(async () => {
    t3 = await apps.start({ config: { plugins: { users: {} } } });
    const res = await t3.api('POST', '/tags/import', { raw: 'idTag\nS-1\nS-2\nS-3\nS-4\nS-5\n', headers: { 'content-type': 'text/csv' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  const stateOf = async (chargerId: string) =>
    (await t3.api('GET', '/local-lists')).body.chargers.find((c: { chargerId: string }) => c.chargerId === chargerId);
  const synced = (chargerId: string) => eventually(async () => {
    const st = await stateOf(chargerId);
    return st?.dirty === false && st.listVersion !== null ? st : undefined;
  });
  const tagCount = async () => ((await t3.api('GET', '/tags')).body as unknown[]).length;
  const importTags = async (ids: string[]) => {
    const res = await t3.api('POST', '/tags/import', { raw: `idTag\n${ids.join('\n')}\n`, headers: { 'content-type': 'text/csv' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };
  const shape = (reqs: SendLocalList[]) => reqs.map((r) => [r.updateType, r.localAuthorizationList?.length ?? 0]);
  const rising = (reqs: SendLocalList[], above: number) => reqs.every((r, i) => r.listVersion > (i ? reqs[i - 1]!.listVersion : above));

  it('splits a full list into a Full update and Differential updates, each within the limit and with its own rising version', async () => {
    const { sim } = await simCharger(t3, 'SPLIT-FULL', { ...newSim(), sendMaxLength: 2 });
    const st = await synced('SPLIT-FULL');
    expect(shape(sim.received)).toEqual([['Full', 2], ['Differential', 2], ['Differential', 1]]);
    expect(rising(sim.received, 0)).toBe(true);
    expect(Object.keys(statusOf(sim)).sort()).toEqual(['S-1', 'S-2', 'S-3', 'S-4', 'S-5']);
    const last = sim.received[2]!.listVersion;
    expect(sim.version).toBe(last);
    expect(st).toMatchObject({ listVersion: last, sendMaxLength: 2, lastError: null });
    // The last version is the global one, so this charger counts as up to date at its next boot.
    expect((await t3.api('GET', '/local-lists')).body.listVersion).toBe(last);
  });

  it('sends the whole list in one request to a charger that does not report SendLocalListMaxLength', async () => {
    const { sim } = await simCharger(t3, 'SPLIT-NONE');
    const st = await synced('SPLIT-NONE');
    expect(st.sendMaxLength).toBeNull();
    expect(shape(sim.received)).toEqual([['Full', await tagCount()]]);
    expect(st.listVersion).toBe(sim.received[0]!.listVersion);
  });

  it('splits a differential update longer than the limit into differential updates with rising versions', async () => {
    const { sim } = await simCharger(t3, 'SPLIT-DIFF', { ...newSim(), sendMaxLength: 2 });
    const before = (await synced('SPLIT-DIFF')).listVersion as number;
    const n = sim.received.length;
    await importTags(['D-1', 'D-2', 'D-3']);
    await received(sim, n + 2);
    const st = await eventually(async () => {
      const x = await stateOf('SPLIT-DIFF');
      return x.listVersion !== before && !x.dirty ? x : undefined;
    });
    const update = sim.received.slice(n);
    expect(shape(update)).toEqual([['Differential', 2], ['Differential', 1]]);
    expect(update.flatMap((r) => r.localAuthorizationList?.map((e) => e.idTag))).toEqual(['D-1', 'D-2', 'D-3']);
    expect(rising(update, before)).toBe(true);
    expect(st.listVersion).toBe(update[1]!.listVersion);
    expect(sim.version).toBe(st.listVersion);
    expect(Object.keys(statusOf(sim))).toHaveLength(await tagCount());
  });

  it('stops a split full list at the refused request, leaves the list out of sync, and the next sync sends the full list again', async () => {
    const { sim } = await simCharger(t3, 'SPLIT-REFUSE-FULL', { ...newSim(), sendMaxLength: 2, refuse: { request: 2, answer: 'Failed' } });
    const st = await eventually(async () => {
      const x = await stateOf('SPLIT-REFUSE-FULL');
      return x?.dirty ? x : undefined;
    });
    expect(st).toMatchObject({ listVersion: null, lastError: expect.stringMatching(/^charger answered Failed to request 2 of \d+ of a full list update$/) });
    await sleep(300);
    expect(shape(sim.received).map(([type]) => type)).toEqual(['Full', 'Differential']);

    await createTag(t3, { idTag: 'R-1' });
    expect((await received(sim, 3)).updateType).toBe('Full');
    const again = await synced('SPLIT-REFUSE-FULL');
    expect(Object.keys(statusOf(sim))).toHaveLength(await tagCount());
    expect(again.listVersion).toBe(sim.version);
  });

  it('marks the list out of sync when a charger fails part of a split differential update, so the next sync starts with a Full update', async () => {
    const { sim } = await simCharger(t3, 'SPLIT-REFUSE-DIFF', { ...newSim(), sendMaxLength: 2 });
    await synced('SPLIT-REFUSE-DIFF');
    const n = sim.received.length;
    sim.refuse = { request: n + 2, answer: 'CALLERROR' };
    await importTags(['E-1', 'E-2', 'E-3']);
    const st = await eventually(async () => {
      const x = await stateOf('SPLIT-REFUSE-DIFF');
      return x.dirty ? x : undefined;
    });
    expect(st).toMatchObject({ listVersion: null, lastError: expect.stringMatching(/^request 2 of 2 of a differential list update failed: /) });
    expect(shape(sim.received.slice(n))).toEqual([['Differential', 2], ['Differential', 1]]);

    await createTag(t3, { idTag: 'E-4' });
    const next = await received(sim, n + 3);
    expect(next.updateType).toBe('Full');
    const again = await synced('SPLIT-REFUSE-DIFF');
    expect(Object.keys(statusOf(sim)).sort()).toEqual(expect.arrayContaining(['E-1', 'E-2', 'E-3', 'E-4']));
    expect(Object.keys(statusOf(sim))).toHaveLength(await tagCount());
    expect(again.listVersion).toBe(sim.version);
  });
});
