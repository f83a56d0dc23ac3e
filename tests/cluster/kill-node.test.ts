import { mkdtempSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ocppRpc from 'ocpp-rpc';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, baseConfig, eventually, runAppliance, sleep, writeConfig, type Running } from '../kit/index.js';
import { PG_SERVER, dropDatabase, postgresAdmin, uniqueDatabase } from '../kit/postgres.js';
import { restartableBroker, skip } from './kit.js';

const { RPCClient } = ocppRpc;
type Client = InstanceType<typeof RPCClient>;

/** A node of the cluster as a child process, so kill -9 is real. */
function startNode(database: string, bus: string, nodeId: string): Running {
  const dir = mkdtempSync(join(tmpdir(), `ck-kill-${nodeId}-`));
  const config = {
    ...baseConfig(),
    storage: { groupCommitWindow: '2ms', meterValuesCommitWindow: '2ms', client: 'postgres', connection: { ...PG_SERVER, database } },
    log: { level: 'info' },
    cluster: { nodeId, bus, protocolVersion: 4, leaseRenewal: '300ms', leaseTimeout: '2s' },
  };
  return runAppliance({ CHARGEKEEPER_CONFIG: writeConfig(dir, config), CHARGEKEEPER_DATA_DIR: dir, CHARGEKEEPER_ADMIN_PASSWORD: ADMIN_PASSWORD });
}

/** A TCP balancer: each connection goes round-robin to a node still alive, as behind a real LB. */
async function balancer(backends: Array<{ port: number; alive: boolean; name: string }>) {
  const nodeOf = new Map<string, string>();
  let next = 0;
  const server = createServer((client: Socket) => {
    const live = backends.filter((b) => b.alive);
    const b = live[next++ % Math.max(1, live.length)];
    if (!b) return client.destroy();
    const upstream = connect(b.port, '127.0.0.1');
    client.once('data', (first: Buffer) => {
      const id = /GET \/ocpp\/([^ ?]+)/.exec(first.toString())?.[1];
      if (id) nodeOf.set(id, b.name);
      upstream.write(first);
      client.pipe(upstream);
    });
    upstream.pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, nodeOf, close: () => server.close() };
}

async function api(port: number, token: string | null, method: string, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${port}/api${path}`, {
    method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, body: await res.json().catch(() => null) as any }; // any: tests read arbitrary JSON
}

describe.skipIf(skip)('kill -9 a node under load', () => {
  const cleanup: Array<() => unknown> = [];
  afterAll(async () => { for (const c of cleanup.reverse()) await c(); });

  it('its chargers resume on the other node, nothing acknowledged lost or doubled', async () => {
    const broker = await restartableBroker();
    cleanup.push(() => broker.down());
    const database = uniqueDatabase('ck_kill');
    await postgresAdmin((c) => c.query(`create database ${database}`));
    cleanup.push(() => dropDatabase(database));
    const nodes = [startNode(database, broker.url, 'node-a'), startNode(database, broker.url, 'node-b')];
    for (const n of nodes) cleanup.push(() => n.child.kill('SIGKILL'));
    const ports = await Promise.all(nodes.map((n) => n.listening));
    const backends = [{ port: ports[0]!, alive: true, name: 'node-a' }, { port: ports[1]!, alive: true, name: 'node-b' }];
    const lb = await balancer(backends);
    cleanup.push(() => lb.close());

    // One charger straight on node A that does not come back after the kill.
    const away = new RPCClient({ endpoint: `ws://127.0.0.1:${ports[0]}/ocpp`, identity: 'AWAY', protocols: ['ocpp1.6'], reconnect: false } as ConstructorParameters<typeof RPCClient>[0]);
    await away.connect();
    await away.call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'T' });

    const acked = { starts: [] as Array<{ id: string; tx: number; meterStart: number; node: string }>, stops: [] as Array<{ id: string; tx: number; meterStop: number; node: string }>, meters: [] as Array<{ id: string; value: number }> };
    const ids = ['K1', 'K2', 'K3', 'K4'];
    const run = async (id: string) => {
      let client: Client | null = null;
      const call = async (method: string, params: unknown): Promise<any> => { // any: OCPP replies
        const deadline = Date.now() + 20_000;
        for (;;) {
          try {
            if (!client) {
              const c = new RPCClient({ endpoint: `ws://127.0.0.1:${lb.port}/ocpp`, identity: id, protocols: ['ocpp1.6'], reconnect: false, callTimeoutMs: 3000 } as ConstructorParameters<typeof RPCClient>[0]);
              c.on('close', () => { if (client === c) client = null; });
              await c.connect();
              client = c;
            }
            // A charger resends the same message until it is answered.
            return await client.call(method, params);
          } catch (err) {
            if (Date.now() > deadline) throw err;
            client?.close({ force: true }).catch(() => undefined);
            client = null;
            await sleep(100);
          }
        }
      };
      await call('BootNotification', { chargePointVendor: 'T', chargePointModel: 'T' });
      let wh = 1000;
      let t = Date.parse('2026-01-01T00:00:00Z') + ids.indexOf(id) * 86_400_000;
      for (let n = 0; n < 3; n++) {
        const meterStart = wh;
        const { transactionId: tx } = await call('StartTransaction', { connectorId: 1, idTag: `TAG${id}`, meterStart, timestamp: new Date(t += 1000).toISOString() });
        acked.starts.push({ id, tx, meterStart, node: lb.nodeOf.get(id)! });
        for (let m = 0; m < 8; m++) {
          wh += 10;
          await call('MeterValues', { connectorId: 1, transactionId: tx, meterValue: [{ timestamp: new Date(t += 1000).toISOString(), sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
          acked.meters.push({ id, value: wh });
          await sleep(60);
        }
        await call('StopTransaction', { transactionId: tx, meterStop: wh, timestamp: new Date(t += 1000).toISOString(), reason: 'Local' });
        acked.stops.push({ id, tx, meterStop: wh, node: lb.nodeOf.get(id)! });
      }
      // Kept connected so the survivor can be seen serving it.
      const last = client as Client | null;
      if (last) cleanup.push(() => last.close({ force: true }));
    };
    const load = Promise.all(ids.map(run));
    await eventually(() => acked.meters.length >= 12, 15_000);
    backends[0]!.alive = false;
    process.kill(nodes[0]!.child.pid!, 'SIGKILL');
    await load;

    const pg = await import('pg');
    const db = new pg.default.Client({ ...PG_SERVER, database });
    await db.connect();
    cleanup.push(() => db.end());
    const txRows = (await db.query(`select * from transactions where charger_id = any($1)`, [ids])).rows;
    expect(txRows).toHaveLength(acked.starts.length);
    for (const s of acked.starts) {
      const row = txRows.find((r) => r.id === s.tx);
      expect(row, `${s.id} tx ${s.tx}`).toMatchObject({ charger_id: s.id, meter_start_wh: s.meterStart });
      const stop = acked.stops.find((x) => x.tx === s.tx)!;
      expect(row.meter_stop_wh).toBe(stop.meterStop);
      expect(row.energy_wh).toBe(stop.meterStop - s.meterStart);
    }
    // A transaction opened on the killed node was closed on the survivor.
    expect(acked.starts.some((s) => s.node === 'node-a' && acked.stops.find((x) => x.tx === s.tx)!.node === 'node-b')).toBe(true);
    const mv = (await db.query(`select charger_id, value from meter_values where charger_id = any($1) and measurand = 'Energy.Active.Import.Register'`, [ids])).rows;
    const key = (r: { id?: string; charger_id?: string; value: number }) => `${r.id ?? r.charger_id}:${r.value}`;
    expect(mv.map(key).sort()).toEqual(acked.meters.map(key).sort());

    const token = (await api(ports[1]!, null, 'POST', '/auth/login', { username: 'admin', password: ADMIN_PASSWORD })).body.token as string;
    const online = async (id: string) => (await api(ports[1]!, token, 'GET', `/chargers/${id}`)).body?.online;
    for (const id of ids) expect(await online(id), id).toBe(true);
    // The one that stayed away turns offline once its lease expires, and a command to it answers 409 at once.
    await eventually(async () => (await online('AWAY')) === false, 10_000);
    const started = Date.now();
    expect((await api(ports[1]!, token, 'POST', '/chargers/AWAY/actions/reset', { hard: false })).status).toBe(409);
    expect(Date.now() - started).toBeLessThan(5000);
  }, 60_000);
});
