import { describe, expect, it } from 'vitest';
import { LeaseLostError } from '../../core/cluster/leases.js';
import { sendErrorOf } from '../../core/ocpp/send-error.js';
import { eventually, sleep } from '../kit/index.js';
import { mosquitto, probe, restartableBroker, skip, sse, useCluster } from './kit.js';

const status = (connectorId: number, s: string) => ({ connectorId, status: s, errorCode: 'NoError', timestamp: new Date().toISOString() });

describe.skipIf(skip)('two nodes on one database and one broker', () => {
  const cluster = useCluster();

  it('routes a command through the node a charger is on, and shows its events on the other', async () => {
    const broker = await restartableBroker();
    const database = await cluster.database();
    const [pa, pb] = [probe(), probe()];
    const a = await cluster.node(database, broker.url, 'node-a', { plugins: { probe: {} }, extraPlugins: { probe: pa.entry } });
    const b = await cluster.node(database, broker.url, 'node-b', { plugins: { probe: {} }, extraPlugins: { probe: pb.entry } });
    const events = sse(b, await b.login());
    try {
      const cp = await a.chargePoint('CL1');
      expect((await cp.boot()).status).toBe('Accepted');
      const lease = await a.app.db('cluster_leases').where({ charger_id: 'CL1' }).first();
      expect(lease).toMatchObject({ node_id: 'node-a' });
      expect(Number(lease.epoch)).toBe(1);

      // Node B lists it online (from the lease), and a reset asked of B's API reaches the socket on A.
      await eventually(async () => ((await b.api('GET', '/chargers/CL1')).body as { online: boolean }).online);
      expect(b.app.core.chargers.onlineIds()).toContain('CL1');
      const resets: unknown[] = [];
      cp.handle('Reset', ({ params }) => { resets.push(params); return { status: 'Accepted' }; });
      const res = await b.api('POST', '/chargers/CL1/actions/reset', { body: { hard: true } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(resets).toEqual([{ type: 'Hard' }]);
      // The charger's CALLERROR comes back as the same error as on its own node.
      cp.handle('UnlockConnector', () => { throw Object.assign(new Error('nope'), { rpcErrorCode: 'NotSupported' }); });
      const unlock = await b.api('POST', '/chargers/CL1/actions/unlock', { body: { connectorId: 1 } });
      expect(unlock.status).toBe(502);
      // No answer in time is a timeout, as on its own node.
      cp.handle('ChangeAvailability', () => new Promise((r) => setTimeout(() => r({ status: 'Accepted' }), 1500)));
      const late = await b.app.core.chargers.send('CL1', 'ChangeAvailability', { connectorId: 0, type: 'Inoperative' }, { actor: 'plugin:test', timeoutMs: 1000 }).catch((err: unknown) => err);
      expect(sendErrorOf(late)?.kind).toBe('timeout');

      // A's events reach B's SSE stream, in order, and none reaches B's plugins (B's own bus handlers).
      await cp.call('StatusNotification', status(1, 'Preparing'));
      await cp.call('StatusNotification', status(1, 'Charging'));
      await eventually(() => events.seen.filter((e) => e.event === 'connector.status' && e.data.chargerId === 'CL1').length >= 2);
      expect(events.seen.filter((e) => e.event === 'connector.status').map((e) => e.data.status)).toEqual(['Preparing', 'Charging']);
      expect(pa.statuses).toEqual(['CL1:Preparing', 'CL1:Charging']);
      expect(pb.statuses).toEqual([]);

      // Disconnected: its lease is released and B lists it offline.
      await cp.close();
      await eventually(async () => !((await b.api('GET', '/chargers/CL1')).body as { online: boolean }).online);
      expect(b.app.core.chargers.onlineIds()).not.toContain('CL1');
      await eventually(async () => (await a.app.db('cluster_leases').where({ charger_id: 'CL1' }).first()).renewed_at === null);
      // A renewal after the release leaves it released.
      await sleep(400);
      expect((await a.app.db('cluster_leases').where({ charger_id: 'CL1' }).first()).renewed_at).toBeNull();
    } finally {
      events.close();
      await broker.down();
    }
  }, 30_000);

  it('moves a charger that reconnects to the other node, and fences the node that lost it', async () => {
    const broker = await restartableBroker();
    const database = await cluster.database();
    const a = await cluster.node(database, broker.url, 'node-a');
    const b = await cluster.node(database, broker.url, 'node-b');
    try {
      const onA = await a.chargePoint('CL2');
      expect((await onA.boot()).status).toBe('Accepted');
      await onA.call('StatusNotification', status(1, 'Available'));
      const closed = new Promise<{ code: number }>((r) => onA.once('close', r));

      const onB = await b.chargePoint('CL2');
      const lease = await b.app.db('cluster_leases').where({ charger_id: 'CL2' }).first();
      expect(lease.node_id).toBe('node-b');
      expect(Number(lease.epoch)).toBe(2);
      expect((await closed).code).toBe(4002);
      await eventually(() => !a.app.ocpp.isOnline('CL2'));

      // A write of node A with its old epoch is refused inside the commit; nothing of it is stored.
      const stale = a.app.cluster!.writerFor('CL2', 1);
      await expect(stale.write((trx) => trx('chargers').where({ id: 'CL2' }).update({ name: 'stale' }))).rejects.toBeInstanceOf(LeaseLostError);
      await expect(stale.insert('charger_messages', [{ charger_id: 'CL2', action: 'stale', received_at: new Date().toISOString() }])).rejects.toBeInstanceOf(LeaseLostError);
      // Node B, which holds the lease, writes.
      await onB.call('StatusNotification', status(1, 'Charging'));
      const row = await a.app.db('chargers').where({ id: 'CL2' }).first();
      expect(row.name).toBeNull();
      expect(await a.app.db('charger_messages').where({ charger_id: 'CL2', action: 'stale' })).toEqual([]);
      // A's socket closing after the move did not store its disconnect: only B's connect follows A's.
      const actions = (await a.app.db('charger_messages').where({ charger_id: 'CL2' }).orderBy('id').select('action')).map((r: { action: string }) => r.action);
      expect(actions).toEqual(['connected', 'connected']);
      expect((await a.app.db('connectors').where({ charger_id: 'CL2', connector_id: 1 }).first()).status).toBe('Charging');

      // B now serves commands for it asked on A.
      onB.handle('Reset', () => ({ status: 'Accepted' }));
      expect((await a.api('POST', '/chargers/CL2/actions/reset', { body: {} })).status).toBe(200);
    } finally {
      await broker.down();
    }
  }, 30_000);

  it('refuses the messages of a socket whose lease moved before its node heard of it', async () => {
    const broker = await restartableBroker();
    const database = await cluster.database();
    const a = await cluster.node(database, broker.url, 'node-a');
    try {
      const cp = await a.chargePoint('CL3');
      expect((await cp.boot()).status).toBe('Accepted');
      await cp.call('StatusNotification', status(1, 'Available'));
      // Another node takes the lease in the database (its news not yet here).
      await a.app.db('cluster_leases').where({ charger_id: 'CL3' }).update({ node_id: 'node-c', epoch: 7, renewed_at: a.app.db.fn.now() });
      await expect(cp.call('StatusNotification', status(1, 'Faulted'))).rejects.toThrow();
      expect((await a.app.db('connectors').where({ charger_id: 'CL3', connector_id: 1 }).first()).status).toBe('Available');
      // The next renewal notices and closes the socket.
      await eventually(() => !a.app.ocpp.isOnline('CL3'), 3000);
    } finally {
      await broker.down();
    }
  }, 30_000);

  it('speaks MQTT 5 to a broker that does (reply topic and correlation in the request properties)', async () => {
    const broker = await mosquitto();
    if (!broker) return;
    const database = await cluster.database();
    try {
      const a = await cluster.node(database, broker.url, 'node-a', { protocolVersion: 5 });
      const b = await cluster.node(database, broker.url, 'node-b', { protocolVersion: 5 });
      const cp = await a.chargePoint('CL5');
      expect((await cp.boot()).status).toBe('Accepted');
      await eventually(() => a.app.cluster!.link.connected && b.app.cluster!.link.connected);
      cp.handle('Reset', () => ({ status: 'Rejected' }));
      const res = await b.api('POST', '/chargers/CL5/actions/reset', { body: {} });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ status: 'Rejected' });
    } finally {
      broker.stop();
    }
  }, 30_000);
});
