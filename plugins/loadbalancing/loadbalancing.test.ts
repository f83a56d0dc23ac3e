import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFixture, MODELS_DIR } from '../../hardware-adapters/modbus-meter/model.js';
import { useSimulators } from '../../hardware-adapters/modbus-meter/test-kit.js';
import type { MeterSimulator } from '../../hardware-adapters/modbus-meter/simulator.js';
import { eventually, startApp, type TestApp, useApp } from '../../tests/kit/index.js';
import { driver } from '../reservations/test-kit.js';
import { obeyingCharger, type ObeyingCharger, type SimOptions } from './test-kit.js';

// Simulators first: teardown runs newest first, so each test's app stops before its meter.
const meters = useSimulators();
const apps = useApp();
let t: TestApp | undefined;

async function site(lb: Record<string, unknown>, ids: string[], opts: Record<string, SimOptions> = {}, plugins: Record<string, unknown> = {}) {
  t = await apps.start({ config: { plugins: { loadbalancing: lb, ...plugins } } });
  const sims: Record<string, ObeyingCharger> = {};
  for (const id of ids) {
    sims[id] = await obeyingCharger(t, id, opts[id]);
    await sims[id].boot();
  }
  return sims;
}

/** Waits until each connector 1 of these chargers applies the given limit (A). */
const limits = (sims: Record<string, ObeyingCharger>, want: Record<string, number>) =>
  eventually(() => Object.entries(want).every(([id, a]) => Math.abs(sims[id]!.limit(1) - a) < 0.05), 5000);
const now = (sims: Record<string, ObeyingCharger>) => Object.fromEntries(Object.entries(sims).map(([id, s]) => [id, Math.round(s.limit(1) * 10) / 10]));

describe('loadbalancing over OCPP 1.6 Smart Charging', () => {
  it('shares 32 A equally among three cars, raises the others when one leaves, and gives what a car does not take to the rest', async () => {
    const sims = await site({ circuits: [{ id: 'main', maxCurrent: 32, chargers: ['CP1', 'CP2', 'CP3'] }], minUpdateInterval: '10s' }, ['CP1', 'CP2', 'CP3']);
    // Each charger keeps 6 A when the appliance is gone: a TxDefaultProfile that never expires.
    await eventually(() => Object.values(sims).every((s) => s.profiles.some((p) => p.purpose === 'TxDefaultProfile' && p.connectorId === 0 && p.limit === 6 && p.validTo === undefined)));

    const t0 = Date.now();
    await sims.CP1!.plug(1, 'A');
    await limits(sims, { CP1: 32 });
    // Allocated and sent within 2 s of StartTransaction.
    expect(Date.now() - t0).toBeLessThan(2000);
    await sims.CP2!.plug(1, 'B');
    await limits(sims, { CP1: 16, CP2: 16 });
    await sims.CP3!.plug(1, 'C');
    await limits(sims, { CP1: 10.6, CP2: 10.6, CP3: 10.6 });

    // A finished session frees its share within 2 s (once the others' last raise is minUpdateInterval old).
    await t!.clock.advance(10_000);
    const t1 = Date.now();
    await sims.CP3!.unplug(1);
    await limits(sims, { CP1: 16, CP2: 16 });
    expect(Date.now() - t1).toBeLessThan(2000);

    // CP1's car is nearly full and takes 8 A: the rest goes to CP2 at its next raise.
    sims.CP1!.want(1, 8);
    expect(await sims.CP1!.report(1)).toBe(8);
    await sims.CP2!.report(1);
    await t!.clock.advance(10_000);
    await limits(sims, { CP1: 9, CP2: 23 });

    const view = await t!.api('GET', '/loadbalancing');
    expect(view.status).toBe(200);
    const main = view.body.circuits[0];
    // Measured is what the cars last reported: CP1 8 A, CP2 16 A (before its raise to 23 A).
    expect(main).toMatchObject({ id: 'main', maxCurrent: 32, allocated: { L1: 32, L2: 32, L3: 32 }, measured: { L1: 24, L2: 24, L3: 24 } });
    expect(main.connectors).toEqual(expect.arrayContaining([
      expect.objectContaining({ chargerId: 'CP1', connectorId: 1, state: 'charging', limit: 9, measured: [8, 8, 8] }),
      expect.objectContaining({ chargerId: 'CP2', state: 'charging', limit: 23 }),
      expect.objectContaining({ chargerId: 'CP3', state: 'idle', limit: null }),
    ]));
    expect(view.body.chargers).toEqual(expect.arrayContaining([{ id: 'CP1', smartCharging: 'yes', rateUnit: 'A', problem: null }]));
    expect((await t!.api('GET', '/loadbalancing', { token: null })).status).toBe(401);

    // The load chart keeps a point every 30 s.
    await t!.clock.advance(30_000);
    const history = await t!.api('GET', '/loadbalancing/history?hours=1');
    expect(history.status).toBe(200);
    expect(history.body.circuits.main.at(-1)).toMatchObject({ limit: 32, allocated: 32 });
    expect(history.body.connectors['CP2:1'].at(-1)).toMatchObject({ limit: 23 });
    expect((await t!.api('GET', '/loadbalancing/history?hours=100')).status).toBe(400);
  });

  it('counts phases: a 1-phase car on a 3-phase charger and 1-phase chargers on other phases do not share', async () => {
    const sims = await site({
      circuits: [{ id: 'main', maxCurrent: 20, chargers: ['CP1', { id: 'CP2', phases: 1, phaseOrder: ['L2'] }, { id: 'CP3', phases: 1, phaseOrder: ['L3'] }] }],
      minUpdateInterval: '10s',
    }, ['CP1', 'CP2', 'CP3']);
    await sims.CP1!.plug(1, 'A', 32, 1);
    await sims.CP2!.plug(1, 'B', 32, 1);
    await sims.CP3!.plug(1, 'C', 32, 1);
    // Until it is measured, CP1's car counts on all three phases and shares L2 and L3 with the others.
    await limits(sims, { CP1: 10, CP2: 10, CP3: 10 });
    for (const s of Object.values(sims)) await s.report(1);
    await t!.clock.advance(10_000);
    // Measured on L1 only: each car has a phase of its own, and the whole 20 A.
    await limits(sims, { CP1: 20, CP2: 20, CP3: 20 });
    const view = (await t!.api('GET', '/loadbalancing')).body.circuits[0];
    expect(view.allocated).toEqual({ L1: 20, L2: 20, L3: 20 });
    expect(view.connectors.map((c: { chargerId: string; phases: string[] }) => [c.chargerId, c.phases])).toEqual([['CP1', ['L1']], ['CP2', ['L2']], ['CP3', ['L3']]]);
  });

  it('pauses a car at 0 A when there is not enough for all at minCurrent, and lets the cars take turns', async () => {
    const sims = await site({
      circuits: [{ id: 'main', maxCurrent: 16, chargers: ['CP1', 'CP2', 'CP3'] }], failsafeCurrent: 5, minCurrent: 6, rotationSlot: '15m',
    }, ['CP1', 'CP2', 'CP3']);
    await sims.CP1!.plug(1, 'A');
    await sims.CP2!.plug(1, 'B');
    await limits(sims, { CP1: 8, CP2: 8 });
    await sims.CP3!.plug(1, 'C');
    // 16 A for three cars is 5.3 A each, below the 6 A a car needs: the latest arrival waits at 0 A.
    await limits(sims, { CP1: 8, CP2: 8, CP3: 0 });

    const paused = new Set<string>();
    for (let turn = 0; turn < 3; turn++) {
      await t!.clock.advance(15 * 60_000 + 1000);
      await eventually(() => Object.values(now(sims)).filter((a) => a === 0).length === 1 && Object.values(now(sims)).reduce((s, a) => s + a, 0) <= 16
        && !Object.entries(now(sims)).some(([id, a]) => a === 0 && paused.has(id)) ? true : null, 15_000).catch(() => undefined);
      const state = now(sims);
      // Never more than the fuse, and exactly one car waits.
      expect(Object.values(state).reduce((s, a) => s + a, 0)).toBeLessThanOrEqual(16);
      expect(Object.values(state).filter((a) => a === 0)).toHaveLength(1);
      paused.add(Object.entries(state).find(([, a]) => a === 0)![0]);
    }
    // Over three turns each car waited once: nobody is stuck at 0 for the evening.
    expect([...paused].sort()).toEqual(['CP1', 'CP2', 'CP3']);
  }, 60_000);

  it('leaves every charger at its failsafe when the appliance stops refreshing the session limits', async () => {
    const sims = await site({ circuits: [{ id: 'main', maxCurrent: 32, chargers: ['CP1', 'CP2'] }], failsafeCurrent: 6, profileValidity: '2m' }, ['CP1', 'CP2']);
    await sims.CP1!.plug(1, 'A');
    await sims.CP2!.plug(1, 'B');
    await limits(sims, { CP1: 16, CP2: 16 });
    const session = sims.CP1!.profiles.find((p) => p.purpose === 'TxProfile')!;
    expect(session.validTo! - Date.now()).toBeLessThanOrEqual(2 * 60_000);
    await t!.stop();
    t = undefined;
    // The appliance is gone: once the session profiles run out (within profileValidity), each charger is back at 6 A.
    expect(sims.CP1!.limit(1, Date.now() + 2 * 60_000 + 1000)).toBe(6);
    expect(sims.CP2!.limit(1, Date.now() + 2 * 60_000 + 1000)).toBe(6);
  });

  it('counts a charger without Smart Charging at its full current, flags it, and shares the rest', async () => {
    const sims = await site({
      circuits: [{ id: 'main', maxCurrent: 32, chargers: [{ id: 'OLD', maxCurrent: 16 }, 'CP2'] }],
    }, ['OLD', 'CP2'], { OLD: { smart: false } }, { diagnostics: {} });
    await sims.OLD!.plug(1, 'A');
    await sims.CP2!.plug(1, 'B');
    await limits(sims, { CP2: 16 });
    const view = await t!.api('GET', '/loadbalancing');
    expect(view.body.chargers.find((c: { id: string }) => c.id === 'OLD')).toMatchObject({ smartCharging: 'no', problem: expect.stringContaining('does not support Smart Charging') });
    expect(view.body.circuits[0].connectors).toEqual(expect.arrayContaining([expect.objectContaining({ chargerId: 'OLD', state: 'unmanaged' })]));
    // And a diagnostics finding says what to do about it.
    const findings = await eventually(async () => {
      const f = (await t!.api('GET', '/diagnostics/findings?check=load-management')).body as Array<Record<string, unknown>>;
      return f.length ? f : null;
    });
    expect(findings![0]).toMatchObject({ check: 'load-management', chargerId: 'OLD', severity: 'warning', message: expect.stringContaining('Charger OLD does not support Smart Charging') });
  });

  it('flags a charger that ignores its limit and counts it at its full current', async () => {
    const sims = await site({ circuits: [{ id: 'main', maxCurrent: 32, chargers: ['CP1', 'CP2'] }], minUpdateInterval: '10s' }, ['CP1', 'CP2'], { CP2: { ignoresLimits: true } });
    await sims.CP1!.plug(1, 'A');
    await sims.CP2!.plug(1, 'B');
    await limits(sims, { CP1: 16, CP2: 16 });
    await t!.clock.advance(11_000);
    expect(await sims.CP2!.report(1)).toBe(32);
    expect(await sims.CP2!.report(1)).toBe(32);
    // CP2 takes the whole fuse whatever it is told: CP1 must wait rather than trip it.
    await limits(sims, { CP1: 0 });
    const view = await t!.api('GET', '/loadbalancing');
    expect(view.body.chargers.find((c: { id: string }) => c.id === 'CP2').problem).toMatch(/^ignores its charging limit: draws 32\.0 A on connector 1 though limited to 16 A/);
  });

  it('serves staff cards (by their group card) first, and a boosted session before them', async () => {
    const sims = await site({
      circuits: [{ id: 'main', maxCurrent: 16, chargers: ['CP1', 'CP2', 'CP3'] }], failsafeCurrent: 5, priorities: [{ idTags: ['staff'], priority: 10 }],
    }, ['CP1', 'CP2', 'CP3'], {}, { users: { localList: { enabled: false } } });
    expect((await t!.api('POST', '/tags', { body: { idTag: 'STAFF' } })).status).toBe(201);
    expect((await t!.api('POST', '/tags', { body: { idTag: 'ANN-1', parentIdTag: 'STAFF' } })).status).toBe(201);
    const vic = await driver(t!, 'vic', 'V1');
    const val = await driver(t!, 'val', 'V2');
    await sims.CP1!.plug(1, 'V1');
    await sims.CP2!.plug(1, 'V2');
    await limits(sims, { CP1: 8, CP2: 8 });
    await sims.CP3!.plug(1, 'ANN-1');
    // Ann's card belongs to the staff group: her car is served first, the visitors get what is left (nothing here).
    await limits(sims, { CP1: 0, CP2: 0, CP3: 16 });

    // Val may not boost Vic's session; Vic may boost his own, which then comes before the staff.
    expect((await t!.api('POST', '/loadbalancing/boost', { token: val.token, body: { chargerId: 'CP1', connectorId: 1 } })).status).toBe(404);
    expect((await t!.api('POST', '/loadbalancing/boost', { token: vic.token, body: { chargerId: 'CP1', connectorId: 7 } })).status).toBe(404);
    const boost = await t!.api('POST', '/loadbalancing/boost', { token: vic.token, body: { chargerId: 'CP1', connectorId: 1 } });
    expect(boost.status, JSON.stringify(boost.body)).toBe(200);
    // Lowering goes at once; the raise waits minUpdateInterval since CP1's last profile.
    await t!.clock.advance(10_000);
    await limits(sims, { CP1: 16, CP2: 0, CP3: 0 });
    const view = (await t!.api('GET', '/loadbalancing')).body.circuits[0].connectors;
    expect(view).toEqual(expect.arrayContaining([
      expect.objectContaining({ chargerId: 'CP1', boosted: true, priority: 100, state: 'charging' }),
      expect.objectContaining({ chargerId: 'CP3', boosted: false, priority: 10, state: 'paused' }),
    ]));
    expect((await t!.api('GET', '/audit?action=loadbalancing.boost')).body[0]).toMatchObject({ actor: 'vic', target: 'CP1:1' });
  });

  it('checks the applied limit with GetCompositeSchedule and flags a charger that applies more', async () => {
    const sims = await site({ circuits: [{ id: 'main', maxCurrent: 32, chargers: ['CP1', 'CP2'] }] }, ['CP1', 'CP2'], { CP2: { compositeLimit: 32 } });
    await sims.CP1!.plug(1, 'A');
    await sims.CP2!.plug(1, 'B');
    const view = await eventually(async () => {
      const v = (await t!.api('GET', '/loadbalancing')).body;
      return v.chargers.find((c: { id: string }) => c.id === 'CP2')?.smartCharging === 'no' ? v : null;
    });
    expect(view!.chargers.find((c: { id: string }) => c.id === 'CP2').problem).toMatch(/applies 32\.0 A on connector 1 though limited to 16 A \(composite schedule\)/);
    // CP1, which applies what it is given, is not flagged; it waits rather than trip the fuse next to a charger that takes 32 A.
    expect(view!.chargers.find((c: { id: string }) => c.id === 'CP1')).toMatchObject({ smartCharging: 'yes', problem: null });
    await limits(sims, { CP1: 0 });
  });

  it('refuses a configuration whose failsafe currents could trip the fuse, naming the key', async () => {
    await expect(startApp({ config: { plugins: { loadbalancing: { failsafeCurrent: 10, circuits: [{ id: 'main', maxCurrent: 25, chargers: ['CP1', 'CP2', 'CP3'] }] } } } }))
      .rejects.toThrow(/plugins\.loadbalancing\.circuits\[0\]\.maxCurrent: 3 charger\(s\) at failsafeCurrent 10 A need 30 A/);
    await expect(startApp({ config: { plugins: { loadbalancing: { circuits: [{ id: 'main', maxCurrent: 32, chargers: ['CP1'] }, { id: 'two', maxCurrent: 32, chargers: ['CP1'] }] } } } }))
      .rejects.toThrow(/plugins\.loadbalancing\.circuits\[1\]\.chargers\[0\]: charger CP1 is already on circuit main/);
  });
});

describe('loadbalancing with a grid meter', () => {
  let sim: MeterSimulator | undefined;
  it('shares what the house leaves of the fuse, follows the house load within a meter poll, and falls back when the meter goes silent', async () => {
    sim = await meters.simulator();
    sim.load(1, loadFixture(join(MODELS_DIR, 'eastron-sdm630.fixture.json')));
    t = await apps.start({
      config: {
        meters: [{ id: 'grid', model: 'eastron-sdm630', modbus: { host: '127.0.0.1', port: sim.port, unitId: 1 }, role: 'grid', pollInterval: '200ms' }],
        plugins: { loadbalancing: { circuits: [{ id: 'main', maxCurrent: 32, meter: 'grid', chargers: ['CP1', 'CP2'] }], minUpdateInterval: '0s', meterStaleAfter: '1s' } },
      },
    });
    const sims = { CP1: await obeyingCharger(t, 'CP1'), CP2: await obeyingCharger(t, 'CP2') };
    for (const s of Object.values(sims)) await s.boot();
    // The grid meter sees the house plus what the chargers draw; the chargers report their draw too.
    let house = 4;
    const follow = setInterval(() => {
      const total = house + sims.CP1.draw(1) + sims.CP2.draw(1);
      for (const addr of [0x0006, 0x0008, 0x000a]) sim!.setFloat(1, 'input', addr, total);
    }, 50);
    const report = setInterval(() => { for (const s of Object.values(sims)) void s.report(1).catch(() => undefined); }, 200);
    try {
      await sims.CP1.plug(1, 'A');
      await sims.CP2.plug(1, 'B');
      await limits(sims, { CP1: 14, CP2: 14 });

      // The house switches on an oven and a heat pump: 20 A. Within a poll or two the chargers give way.
      house = 20;
      const t0 = Date.now();
      await limits(sims, { CP1: 6, CP2: 6 });
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(house + sims.CP1.draw(1) + sims.CP2.draw(1)).toBeLessThanOrEqual(32);
      house = 4;
      await limits(sims, { CP1: 14, CP2: 14 });

      // The meter stops answering: its figures are not trusted, each charger falls back to the failsafe share.
      sim.silent.add(1);
      await limits(sims, { CP1: 6, CP2: 6 });
      const view = await t.api('GET', '/loadbalancing');
      expect(view.body.circuits[0].meter).toMatchObject({ id: 'grid', stale: true });
    } finally {
      clearInterval(follow);
      clearInterval(report);
    }
  }, 30_000);
});

describe('loadbalancing on solar surplus', () => {
  let sim: MeterSimulator | undefined;
  for (const mode of ['surplus', 'min+surplus'] as const) {
    it(`${mode}: charges from what the site exports, and ${mode === 'surplus' ? 'pauses' : 'keeps minCurrent'} when a cloud comes`, async () => {
      sim = await meters.simulator();
      sim.load(1, loadFixture(join(MODELS_DIR, 'eastron-sdm630.fixture.json')));
      t = await apps.start({
        config: {
          meters: [{ id: 'grid', model: 'eastron-sdm630', modbus: { host: '127.0.0.1', port: sim.port, unitId: 1 }, role: 'grid', pollInterval: '200ms' }],
          plugins: { loadbalancing: { circuits: [{ id: 'main', maxCurrent: 32, meter: 'grid', solar: mode, chargers: ['CP1'] }], minUpdateInterval: '0s', hysteresis: 0.5 } },
        },
      });
      const cp1 = await obeyingCharger(t, 'CP1');
      await cp1.boot();
      // A 3-phase house: 4 A of load, the panels give 20 A per phase; the grid meter sees the difference (negative: export).
      let pv = 20;
      const house = 4;
      const follow = setInterval(() => {
        const perPhase = house + cp1.draw(1) - pv;
        for (const addr of [0x0006, 0x0008, 0x000a]) sim!.setFloat(1, 'input', addr, Math.abs(perPhase));
        sim!.setFloat(1, 'input', 0x0034, perPhase * 230 * 3);
      }, 50);
      const report = setInterval(() => void cp1.report(1).catch(() => undefined), 200);
      try {
        await cp1.plug(1, 'A');
        // 16 A per phase is exported: the car takes it, and the grid stays at about zero.
        await eventually(() => Math.abs(cp1.limit(1) - 16) < 0.6, 8000);
        await t.clock.advance(1000);
        pv = 8;
        // Clouds: only 4 A would be left from the sun, less than a car needs.
        await eventually(() => cp1.limit(1) === (mode === 'surplus' ? 0 : 6), 8000);
      } finally {
        clearInterval(follow);
        clearInterval(report);
      }
    }, 30_000);
  }
});

describe('loadbalancing across an appliance restart', () => {
  it('gives a session that was running before the restart its share again when its charger reconnects, and a refused start none', async () => {
    const sims = await site({ circuits: [{ id: 'main', maxCurrent: 32, chargers: ['CP1', 'CP2'] }] }, ['CP1', 'CP2'], {}, { users: { localList: { enabled: false } } });
    expect((await t!.api('POST', '/tags', { body: { idTag: 'A' } })).status).toBe(201);
    const tx = await sims.CP1!.plug(1, 'A');
    // CP2's card is unknown: the start is refused and gets no share.
    await sims.CP2!.plug(1, 'NOBODY');
    await limits(sims, { CP1: 32 });
    expect(sims.CP2!.profiles.filter((p) => p.purpose === 'TxProfile')).toEqual([]);

    await t!.restart();
    const again = await obeyingCharger(t!, 'CP1');
    // Reconnected without a boot (as after the appliance's restart): the failsafe, then the running session's limit.
    await eventually(() => again.profiles.some((p) => p.purpose === 'TxDefaultProfile') && again.profiles.some((p) => p.purpose === 'TxProfile' && p.transactionId === tx && p.limit === 32), 8000);
  }, 30_000);
});
