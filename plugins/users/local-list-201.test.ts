import { describe, expect, it } from 'vitest';
import { createTag, eventually, type TestApp, type TestChargePoint, useApp } from '../../tests/kit/index.js';
import { boot201, sendTx, station } from '../../tests/ocpp/v201-kit.js';
import { authorize } from './test-kit.js';

interface Entry201 { idToken: { idToken: string; type: string }; idTokenInfo?: { status: string; cacheExpiryDateTime?: string; groupIdToken?: { idToken: string; type: string } } }
interface SendLocalList201 { versionNumber: number; updateType: 'Full' | 'Differential'; localAuthorizationList?: Entry201[] }

/** A strict 2.0.1 station with a local list (LocalAuthListCtrlr) and an authorization cache; what it holds survives reconnects. */
async function listStation(t: TestApp, id: string, opts: { itemsPerMessage?: number } = {}) {
  const cp: TestChargePoint = await station(t, id);
  const s = { version: 0, list: new Map<string, Entry201['idTokenInfo']>(), received: [] as SendLocalList201[], clearCache: 0, variables: [] as string[] };
  const settings: Record<string, string> = {
    'AuthCacheCtrlr.Enabled': 'true', 'LocalAuthListCtrlr.Enabled': 'true',
    ...(opts.itemsPerMessage ? { 'LocalAuthListCtrlr.ItemsPerMessage': String(opts.itemsPerMessage) } : {}),
  };
  cp.handle('GetVariables', ({ params }) => ({
    getVariableResult: params.getVariableData.map((d: { component: { name: string }; variable: { name: string } }) => {
      const name = `${d.component.name}.${d.variable.name}`;
      s.variables.push(name);
      return settings[name] === undefined
        ? { attributeStatus: 'UnknownVariable', component: d.component, variable: d.variable }
        : { attributeStatus: 'Accepted', attributeValue: settings[name], component: d.component, variable: d.variable };
    }),
  }));
  cp.handle('GetLocalListVersion', () => ({ versionNumber: s.version }));
  cp.handle('ClearCache', () => { s.clearCache++; return { status: 'Accepted' }; });
  cp.handle('SendLocalList', ({ params }: { params: SendLocalList201 }) => {
    s.received.push(params);
    if (params.updateType === 'Differential' && params.versionNumber <= s.version) return { status: 'VersionMismatch' };
    if (params.updateType === 'Full') s.list.clear();
    for (const e of params.localAuthorizationList ?? []) {
      if (e.idTokenInfo) s.list.set(e.idToken.idToken, e.idTokenInfo);
      else s.list.delete(e.idToken.idToken);
    }
    s.version = params.versionNumber;
    return { status: 'Accepted' };
  });
  expect((await boot201(cp)).status).toBe('Accepted');
  return { cp, sim: s };
}

const received = async (sim: { received: SendLocalList201[] }, n: number) => {
  await eventually(() => sim.received.length >= n);
  return sim.received[n - 1]!;
};

const apps = useApp();

describe('local lists and authorization on OCPP 2.0.1 stations', () => {
  it('sends a full list at boot, differential updates when a card is blocked or removed, and clears the cache when a card loses access', async () => {
    const t = await apps.start({ config: { plugins: { users: {} } } });
    await createTag(t, { idTag: 'L201-A' });
    await createTag(t, { idTag: 'L201-B', expiresAt: '2031-05-01T12:00:00Z', parentIdTag: 'L201-A' });
    const { sim } = await listStation(t, 'ST-LIST');

    const full = await received(sim, 1);
    expect(sim.variables).toEqual(['AuthCacheCtrlr.Enabled', 'LocalAuthListCtrlr.Enabled', 'LocalAuthListCtrlr.ItemsPerMessage']);
    expect(full).toEqual({
      versionNumber: expect.any(Number), updateType: 'Full',
      localAuthorizationList: [
        { idToken: { idToken: 'L201-A', type: 'ISO14443' }, idTokenInfo: { status: 'Accepted' } },
        {
          idToken: { idToken: 'L201-B', type: 'ISO14443' },
          idTokenInfo: { status: 'Accepted', cacheExpiryDateTime: '2031-05-01T12:00:00.000Z', groupIdToken: { idToken: 'L201-A', type: 'Central' } },
        },
      ],
    });
    expect(full.versionNumber).toBeGreaterThan(0);

    await t.api('PATCH', '/tags/L201-A', { body: { status: 'Blocked' } });
    const block = await received(sim, 2);
    expect(block.updateType).toBe('Differential');
    expect(block.versionNumber).toBeGreaterThan(full.versionNumber);
    // A blocked group card blocks its members too.
    expect(block.localAuthorizationList).toEqual([
      { idToken: { idToken: 'L201-A', type: 'ISO14443' }, idTokenInfo: { status: 'Blocked' } },
      { idToken: { idToken: 'L201-B', type: 'ISO14443' }, idTokenInfo: { status: 'Blocked', cacheExpiryDateTime: '2031-05-01T12:00:00.000Z', groupIdToken: { idToken: 'L201-A', type: 'Central' } } },
    ]);
    await eventually(() => sim.clearCache === 1);

    // A removed card goes without idTokenInfo, which a Differential update reads as "delete".
    await t.api('DELETE', '/tags/L201-B');
    const removal = await received(sim, 3);
    expect(removal).toEqual({ versionNumber: expect.any(Number), updateType: 'Differential', localAuthorizationList: [{ idToken: { idToken: 'L201-B', type: 'ISO14443' } }] });
    expect(removal.versionNumber).toBeGreaterThan(block.versionNumber);
    // B was blocked already: removing it takes no access away, so the cache stays.
    expect(sim.clearCache).toBe(1);
    expect(Object.fromEntries([...sim.list].map(([k, v]) => [k, v?.status]))).toEqual({ 'L201-A': 'Blocked' });

    const state = (await t.api('GET', '/local-lists')).body;
    expect(state.chargers.find((c: { chargerId: string }) => c.chargerId === 'ST-LIST')).toMatchObject({
      supported: true, listVersion: removal.versionNumber, cacheEnabled: true, dirty: false, clearCacheWanted: null,
    });
  });

  it('splits a list by the station\'s ItemsPerMessage and empties it with a Full update that carries no entries', async () => {
    const t = await apps.start({ config: { plugins: { users: {} } } });
    for (const n of [1, 2, 3]) await createTag(t, { idTag: `L201-S${n}` });
    const { sim } = await listStation(t, 'ST-SPLIT', { itemsPerMessage: 2 });
    const first = await received(sim, 1);
    const second = await received(sim, 2);
    expect([first.updateType, first.localAuthorizationList?.length, second.updateType, second.localAuthorizationList?.length]).toEqual(['Full', 2, 'Differential', 1]);
    expect(second.versionNumber).toBe(first.versionNumber + 1);

    for (const n of [1, 2, 3]) await t.api('DELETE', `/tags/L201-S${n}`);
    await eventually(() => sim.list.size === 0);
    // The resync of a station whose list is already known sends a Full list: with no cards, without localAuthorizationList (2.0.1 wants one entry at least when it is given).
    const res = await t.api('POST', '/local-lists/ST-SPLIT/sync');
    expect(res.status).toBeLessThan(300);
    const last = await eventually(() => sim.received.find((r) => r.updateType === 'Full' && r !== first));
    expect(last).toEqual({ versionNumber: expect.any(Number), updateType: 'Full' });
  });

  it('answers an unknown card Unknown on 2.0.1 and Invalid on 1.6, and a blocked one Blocked on both', async () => {
    const t = await apps.start({ config: { plugins: { users: {} } } });
    await createTag(t, { idTag: 'L201-BLK', status: 'Blocked' });
    const { cp } = await listStation(t, 'ST-AUTH');
    const old = await t.chargePoint('CP-AUTH');
    await old.boot();
    const auth201 = async (idToken: string) => ((await cp.call('Authorize', { idToken: { idToken, type: 'ISO14443' } })) as { idTokenInfo: { status: string } }).idTokenInfo.status;
    expect(await auth201('NOBODY-1')).toBe('Unknown');
    expect((await authorize(old, 'NOBODY-1')).status).toBe('Invalid');
    expect(await auth201('L201-BLK')).toBe('Blocked');
    expect((await authorize(old, 'L201-BLK')).status).toBe('Blocked');
    // The card of a transaction gets the same answer.
    const started = await sendTx(cp, { eventType: 'Started', transactionId: 'T-UNK', seqNo: 0, timestamp: new Date().toISOString(), evseId: 1, idTag: 'NOBODY-2' });
    expect(started.idTokenInfo?.status).toBe('Unknown');
    // Still shown as an unknown card, for an operator to adopt.
    const unknown = (await t.api('GET', '/tags/unknown')).body as Array<{ idTag: string }>;
    expect(unknown.map((u) => u.idTag)).toEqual(expect.arrayContaining(['NOBODY-1', 'NOBODY-2']));
  });
});
