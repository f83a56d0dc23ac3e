import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import { afterAll } from 'vitest';
import { Type } from '@sinclair/typebox';
import type { RegistryEntry } from '../../core/host.js';
import { definePlugin } from '../../core/plugin.js';
import { useApp, type TestApp } from '../kit/index.js';
import { PG_SERVER, dropDatabase, postgresAdmin, postgresSkipped, uniqueDatabase } from '../kit/postgres.js';

export const skip = await postgresSkipped();

/** A real aedes broker on a loopback port that can be stopped and started again on the same port. */
export async function restartableBroker() {
  const { Aedes } = await import('aedes');
  let broker: Awaited<ReturnType<typeof Aedes.createBroker>> | null = null;
  let server: Server | null = null;
  let port = 0;
  const up = async () => {
    broker = await Aedes.createBroker();
    const s = createServer(broker.handle);
    await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  const down = async () => {
    const b = broker;
    const s = server;
    broker = null;
    server = null;
    if (b) await new Promise<void>((r) => b.close(() => r()));
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };
  await up();
  return { get url() { return `mqtt://127.0.0.1:${port}`; }, up, down };
}

/** Two nodes (or more) on one fresh PostgreSQL database and one broker. */
export function useCluster() {
  const apps = useApp();
  const databases: string[] = [];
  afterAll(async () => {
    for (const d of databases) await dropDatabase(d);
  });
  return {
    async database() {
      const database = uniqueDatabase('ck_cluster');
      await postgresAdmin((c) => c.query(`create database ${database}`));
      databases.push(database);
      return database;
    },
    node(database: string, busUrl: string, nodeId: string, extra: { plugins?: Record<string, unknown>; extraPlugins?: Record<string, RegistryEntry>; protocolVersion?: 4 | 5 } = {}): Promise<TestApp> {
      return apps.start({
        config: {
          storage: { client: 'postgres', connection: { ...PG_SERVER, database } },
          // aedes speaks MQTT 3.1.1: requests name their reply topic in the payload.
          cluster: { nodeId, bus: busUrl, protocolVersion: extra.protocolVersion ?? 4, leaseRenewal: '300ms', leaseTimeout: '2s' },
          ...(extra.plugins ? { plugins: extra.plugins } : {}),
        },
        extraPlugins: extra.extraPlugins,
      });
    },
  };
}

/** GET /api/events over a real socket, recording each event's name and data. */
export function sse(t: TestApp, token: string) {
  const seen: Array<{ event: string; data: any }> = []; // any: tests read arbitrary JSON
  const req = request({ host: '127.0.0.1', port: t.port, path: `/api/events?token=${token}`, method: 'GET' }, (res) => {
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split('\n\n');
      buffer = parts.pop() ?? '';
      for (const part of parts) {
        const event = /^event: (.+)$/m.exec(part)?.[1];
        const data = /^data: (.+)$/m.exec(part)?.[1];
        if (event && data) seen.push({ event, data: JSON.parse(data) });
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return { seen, close: () => req.destroy() };
}

/** A test plugin that records what its handlers saw on one node, and runs a job every 100 ms. */
export function probe(): { entry: RegistryEntry; statuses: string[]; jobRuns: number } {
  const out = {
    statuses: [] as string[],
    jobRuns: 0,
    entry: {
      dir: 'tests',
      plugin: definePlugin({
        manifest: { name: 'probe', version: '1.0.0', summary: 'records its handlers\' calls', config: Type.Object({}) },
        register(ctx) {
          ctx.on('connector.status', (e) => { out.statuses.push(`${e.chargerId}:${e.status}`); });
          ctx.every('tick', 100, () => { out.jobRuns++; });
        },
      }),
    } as RegistryEntry,
  };
  return out;
}

/** A mosquitto (an MQTT 5 broker) on a free loopback port when the machine has one, else null. */
export async function mosquitto(): Promise<{ url: string; stop(): void } | null> {
  const port = await new Promise<number>((resolve) => {
    const probePort = createServer().listen(0, '127.0.0.1', () => {
      const p = (probePort.address() as AddressInfo).port;
      probePort.close(() => resolve(p));
    });
  });
  const child = spawn('mosquitto', ['-p', String(port)], { stdio: 'ignore' });
  const started = await new Promise<boolean>((resolve) => {
    child.once('error', () => resolve(false));
    const deadline = Date.now() + 3000;
    const poll = () => {
      const s = createServer();
      // Listening fails once mosquitto holds the port.
      s.once('error', () => resolve(true));
      s.listen(port, '127.0.0.1', () => s.close(() => (Date.now() > deadline ? resolve(false) : setTimeout(poll, 50))));
    };
    poll();
  });
  if (!started) {
    child.kill();
    console.warn('\n!! MQTT 5 test SKIPPED: no mosquitto on this machine\n');
    return null;
  }
  return { url: `mqtt://127.0.0.1:${port}`, stop: () => child.kill() };
}
