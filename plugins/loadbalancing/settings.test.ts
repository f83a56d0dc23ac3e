import { describe, expect, it } from 'vitest';
import { eventually, type TestApp, useApp } from '../../tests/kit/index.js';
import { obeyingCharger, type ObeyingCharger } from './test-kit.js';

const apps = useApp();
let t: TestApp | undefined;

async function site(lb: Record<string, unknown>, chargers: Record<string, number>) {
  t = await apps.start({ config: { plugins: { loadbalancing: lb, users: { localList: { enabled: false } }, diagnostics: {} } } });
  // The users plugin lets known cards charge only.
  for (const idTag of ['A', 'B', 'VISITOR', 'STAFF-1']) expect((await t.api('POST', '/tags', { body: { idTag } })).status).toBe(201);
  const sims: Record<string, ObeyingCharger> = {};
  for (const [id, connectors] of Object.entries(chargers)) {
    sims[id] = await obeyingCharger(t, id);
    await sims[id].boot(connectors);
  }
  return sims;
}

const limits = (sims: Record<string, ObeyingCharger>, want: Record<string, number>) =>
  eventually(() => Object.entries(want).every(([id, a]) => Math.abs(sims[id]!.limit(1) - a) < 0.05), 5000);

/** A staff account of this role, signed in. */
async function staff(username: string, role: 'installer' | 'technician'): Promise<string> {
  const password = `${username}-password-1`;
  expect((await t!.api('POST', '/users', { body: { username, role, password } })).status).toBe(201);
  return t!.login(username, password);
}

describe('an installer changes limits and priorities on the Load page', () => {
  it('lowers a circuit\'s limit at once, keeps it and the load chart across a restart, names a bad field, and resets to the config', async () => {
    const sims = await site({ circuits: [{ id: 'main', maxCurrent: 32, chargers: ['CP1', 'CP2'] }] }, { CP1: 1, CP2: 1 });
    await sims.CP1!.plug(1, 'A');
    await sims.CP2!.plug(1, 'B');
    await limits(sims, { CP1: 16, CP2: 16 });
    const ian = await staff('ian', 'installer');
    const tom = await staff('tom', 'technician');

    expect((await t!.api('PUT', '/loadbalancing/circuits/main', { token: tom, body: { maxCurrent: 20 } })).status).toBe(403);
    // Two chargers at the 6 A failsafe need 12 A: a lower fuse could trip when the appliance is gone.
    const low = await t!.api('PUT', '/loadbalancing/circuits/main', { token: ian, body: { maxCurrent: 10 } });
    expect(low.status).toBe(400);
    expect(low.body.errors).toEqual([expect.objectContaining({ field: 'maxCurrent', message: expect.stringMatching(/2 charger\(s\) at failsafeCurrent 6 A need 12 A/) })]);
    const junk = await t!.api('PUT', '/loadbalancing/circuits/main', { token: ian, body: { maxCurrent: 'lots' } });
    expect(junk.status).toBe(400);
    expect(JSON.stringify(junk.body.errors)).toMatch(/maxCurrent/);
    expect((await t!.api('PUT', '/loadbalancing/circuits/nowhere', { token: ian, body: { maxCurrent: 20 } })).status).toBe(404);

    const set = await t!.api('PUT', '/loadbalancing/circuits/main', { token: ian, body: { maxCurrent: 20, maxPower: 22000 } });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    // Lowering is never delayed: both cars fall under the new limit without waiting minUpdateInterval.
    await limits(sims, { CP1: 10, CP2: 10 });
    expect(set.body.circuits[0]).toMatchObject({ maxCurrent: 20, maxPower: 22000, configured: { maxCurrent: 32, maxPower: null }, changed: { by: 'ian' } });
    expect((await t!.api('GET', '/audit?action=loadbalancing.limits')).body[0]).toMatchObject({ actor: 'ian', target: 'main' });

    // A point of the load chart is kept every 30 s; it is read back after the restart.
    await t!.clock.advance(30_000);
    await eventually(async () => ((await t!.api('GET', '/loadbalancing/history?hours=1')).body.circuits.main ?? []).length >= 1);
    await t!.restart();
    const view = (await t!.api('GET', '/loadbalancing')).body;
    expect(view.circuits[0]).toMatchObject({ maxCurrent: 20, changed: { by: 'ian' } });
    const history = (await t!.api('GET', '/loadbalancing/history?hours=1')).body;
    expect(history.circuits.main).toEqual(expect.arrayContaining([expect.objectContaining({ limit: 20, allocated: 20 })]));
    expect(history.connectors['CP1:1']).toEqual(expect.arrayContaining([expect.objectContaining({ limit: 10 })]));

    const reset = await t!.api('DELETE', '/loadbalancing/circuits/main', { token: await t!.login('ian', 'ian-password-1') });
    expect(reset.status).toBe(200);
    expect(reset.body.circuits[0]).toMatchObject({ maxCurrent: 32, maxPower: null, changed: null });
  }, 30_000);

  it('ranks running sessions again when the priorities change, and back when they are reset', async () => {
    const sims = await site({ circuits: [{ id: 'main', maxCurrent: 16, chargers: ['CP1', 'CP2'] }], failsafeCurrent: 5 }, { CP1: 1, CP2: 1 });
    await sims.CP1!.plug(1, 'VISITOR');
    await sims.CP2!.plug(1, 'STAFF-1');
    await limits(sims, { CP1: 8, CP2: 8 });
    const ian = await staff('ian', 'installer');

    const bad = await t!.api('PUT', '/loadbalancing/priorities', { token: ian, body: { priorities: [{ idTags: [], priority: 10 }] } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.errors)).toMatch(/priorities.*idTags/);

    const set = await t!.api('PUT', '/loadbalancing/priorities', { token: ian, body: { priorities: [{ idTags: ['staff-1'], priority: 10 }] } });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({ priorities: [{ idTags: ['staff-1'], priority: 10 }], prioritiesChanged: { by: 'ian' } });
    // The visitor yields at once; the staff car's raise waits minUpdateInterval.
    await limits(sims, { CP1: 0 });
    await t!.clock.advance(10_000);
    await limits(sims, { CP1: 0, CP2: 16 });

    expect((await t!.api('DELETE', '/loadbalancing/priorities', { token: ian })).body.prioritiesChanged).toBeNull();
    await limits(sims, { CP2: 8 });
    await t!.clock.advance(10_000);
    await limits(sims, { CP1: 8, CP2: 8 });
  }, 30_000);
});

describe('what the Load page lists', () => {
  it('lists connectors before their first session and chargers that never connected, and flags a circuit whose connectors at failsafe exceed its fuse', async () => {
    // Two chargers at 6 A fit under 16 A as the config counts them; CP1 turns out to have two connectors: 3 × 6 A = 18 A.
    const sims = await site({ circuits: [{ id: 'main', maxCurrent: 16, chargers: ['CP1', 'CP9'] }] }, { CP1: 2 });
    const view = await eventually(async () => {
      const v = (await t!.api('GET', '/loadbalancing')).body;
      return v.circuits[0].problem ? v : null;
    });
    expect(view!.circuits[0]).toMatchObject({ unseen: ['CP9'], problem: expect.stringMatching(/3 connectors at failsafeCurrent 6 A may draw 18 A when the appliance is gone, more than its 16 A/) });
    expect(view!.circuits[0].connectors).toEqual([
      expect.objectContaining({ chargerId: 'CP1', connectorId: 1, state: 'idle', transactionId: null }),
      expect.objectContaining({ chargerId: 'CP1', connectorId: 2, state: 'idle', transactionId: null }),
    ]);
    const finding = await eventually(async () => {
      const f = (await t!.api('GET', '/diagnostics/findings?check=load-management')).body as Array<Record<string, unknown>>;
      return f.find((x) => x.state === 'active' && String(x.message).includes('may draw 18 A')) ?? null;
    });
    expect(finding).toMatchObject({ chargerId: null, severity: 'warning', action: expect.stringContaining('Lower failsafeCurrent') });
    expect(sims.CP1!.profiles.some((p) => p.purpose === 'TxDefaultProfile')).toBe(true);

    // A fuse that fits them all clears it.
    expect((await t!.api('PUT', '/loadbalancing/circuits/main', { body: { maxCurrent: 20 } })).body.circuits[0].problem).toBeNull();
    await eventually(async () => {
      const f = (await t!.api('GET', '/diagnostics/findings?check=load-management')).body as Array<Record<string, unknown>>;
      return f.length > 0 && f.every((x) => x.state !== 'active');
    });
  }, 30_000);

  it('sends the failsafe once when a charger connects and boots, and again when it comes back', async () => {
    const sims = await site({ circuits: [{ id: 'main', maxCurrent: 32, chargers: ['CP1'] }] }, { CP1: 1 });
    const failsafes = () => sims.CP1!.received.filter((p) => p.purpose === 'TxDefaultProfile').length;
    await eventually(() => failsafes() === 1);
    // The connect handler waits a second for a boot before it configures a charger that reconnected without one.
    await new Promise((r) => setTimeout(r, 1500));
    expect(failsafes()).toBe(1);

    await sims.CP1!.cp.close();
    const again = await obeyingCharger(t!, 'CP1');
    await eventually(() => again.received.some((p) => p.purpose === 'TxDefaultProfile'), 5000);
  }, 30_000);
});
