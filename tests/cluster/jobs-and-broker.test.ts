import { describe, expect, it } from 'vitest';
import { loadCoreConfig } from '../../core/config.js';
import { eventually, sleep, useApp } from '../kit/index.js';
import { probe, restartableBroker, skip, sse, useCluster } from './kit.js';

const status = (connectorId: number, s: string) => ({ connectorId, status: s, errorCode: 'NoError', timestamp: new Date().toISOString() });

describe('the cluster section', () => {
  const apps = useApp();
  it('needs PostgreSQL, and names cluster when it is missing', () => {
    const env = { CHARGEKEEPER_CONFIG: '/nonexistent.yaml' };
    const { problems } = loadCoreConfig(env, 'cluster:\n  nodeId: node-a\n  bus: mqtt://127.0.0.1:1883\n');
    expect(problems.map((p) => p.path)).toEqual(['cluster']);
    const ok = loadCoreConfig(env, 'storage:\n  client: postgres\ncluster:\n  nodeId: node-a\n  bus: mqtt://127.0.0.1:1883\n');
    expect(ok.problems).toEqual([]);
    expect(ok.config?.core.cluster).toMatchObject({ nodeId: 'node-a', prefix: 'chargekeeper', protocolVersion: 5, leaseRenewal: 5000 });
    expect(loadCoreConfig(env, 'storage:\n  client: postgres\ncluster:\n  bus: http://x\n').problems.map((p) => p.path)).toEqual(['cluster.bus']);
  });

  it('without it a single node sends no lease or lock query', async () => {
    const t = await apps.start();
    const sql: string[] = [];
    t.app.db.on('query', (q: { sql: string }) => sql.push(q.sql));
    const cp = await t.chargePoint('SOLO');
    expect((await cp.boot()).status).toBe('Accepted');
    await cp.call('StatusNotification', status(1, 'Available'));
    await cp.call('Heartbeat', {});
    await t.app.clock.advance(3_600_000);
    expect(t.app.cluster).toBeNull();
    expect(sql.length).toBeGreaterThan(0);
    expect(sql.filter((s) => /cluster_leases|advisory/.test(s))).toEqual([]);
    await t.stop();
  });
});

describe.skipIf(skip)('a cluster over time', () => {
  const cluster = useCluster();

  it('runs each job on one node at a time, and on the other once that one stops', async () => {
    const broker = await restartableBroker();
    const database = await cluster.database();
    const [pa, pb] = [probe(), probe()];
    const a = await cluster.node(database, broker.url, 'node-a', { plugins: { probe: {} }, extraPlugins: { probe: pa.entry } });
    const b = await cluster.node(database, broker.url, 'node-b', { plugins: { probe: {} }, extraPlugins: { probe: pb.entry } });
    try {
      await eventually(() => pa.jobRuns + pb.jobRuns >= 5);
      await sleep(300);
      const [holder, holderProbe, otherProbe] = pa.jobRuns > 0 ? [a, pa, pb] : [b, pb, pa];
      expect(otherProbe.jobRuns).toBe(0);
      expect(holderProbe.jobRuns).toBeGreaterThan(0);
      await holder.stop();
      await eventually(() => otherProbe.jobRuns >= 3);
    } finally {
      await broker.down();
    }
  }, 30_000);

  it('keeps serving its chargers while the broker is down, refuses commands to other nodes clearly, and catches up', async () => {
    const broker = await restartableBroker();
    const database = await cluster.database();
    const a = await cluster.node(database, broker.url, 'node-a');
    const b = await cluster.node(database, broker.url, 'node-b');
    const events = sse(b, await b.login());
    try {
      const cp = await a.chargePoint('CL4');
      expect((await cp.boot()).status).toBe('Accepted');
      cp.handle('Reset', () => ({ status: 'Accepted' }));
      await eventually(() => b.app.core.chargers.isOnline('CL4'));

      await broker.down();
      await eventually(() => !a.app.cluster!.link.connected && !b.app.cluster!.link.connected);
      await cp.call('StatusNotification', status(1, 'Preparing'));
      expect((await a.app.db('connectors').where({ charger_id: 'CL4', connector_id: 1 }).first()).status).toBe('Preparing');
      // B still sees it online (the lease is in PostgreSQL), but cannot reach its node.
      expect(b.app.core.chargers.isOnline('CL4')).toBe(true);
      const refused = await b.api('POST', '/chargers/CL4/actions/reset', { body: {} });
      expect(refused.status).toBe(409);
      expect(JSON.stringify(refused.body)).toMatch(/cluster bus is unreachable/);
      // A's own commands still work.
      expect((await a.api('POST', '/chargers/CL4/actions/reset', { body: {} })).status).toBe(200);

      await broker.up();
      await eventually(() => a.app.cluster!.link.connected && b.app.cluster!.link.connected, 10_000);
      await eventually(async () => (await b.api('POST', '/chargers/CL4/actions/reset', { body: {} })).status === 200, 10_000);
      await cp.call('StatusNotification', status(1, 'Charging'));
      await eventually(() => events.seen.some((e) => e.event === 'connector.status' && e.data.chargerId === 'CL4' && e.data.status === 'Charging'));
      expect(a.logs.some((l) => /cluster bus .* unreachable/.test(l))).toBe(true);
    } finally {
      events.close();
      await broker.down();
    }
  }, 40_000);
});
