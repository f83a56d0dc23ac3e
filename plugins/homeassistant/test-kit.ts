import { createServer, type AddressInfo, type Server } from 'node:net';
import type { TestApp, TestChargePoint } from '../../tests/kit/index.js';
import { eventually } from '../../tests/kit/index.js';

/**
 * A real aedes broker on 127.0.0.1, on a port the test may pick before it
 * starts (to boot the appliance against a broker that is not there yet),
 * with an optional user and password.
 */
export async function startHaBroker(opts: { port?: number; auth?: { username: string; password: string } } = {}) {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker(opts.auth ? {
    authenticate: (_client, username, password, done) => {
      const ok = username === opts.auth!.username && password?.toString('utf8') === opts.auth!.password;
      done(ok ? null : Object.assign(new Error('bad user name or password'), { returnCode: 4 as const }), ok);
    },
  } : {});
  const server: Server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    /** Cuts the appliance's connection as a network failure would: the broker publishes its will. */
    dropAppliance() {
      const clients = (broker as unknown as { clients: Record<string, { close(): void }> }).clients;
      const ids = Object.keys(clients).filter((id) => id.startsWith('chargekeeper-ha-'));
      for (const id of ids) clients[id]!.close();
      return ids.length;
    },
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export type HaBroker = Awaited<ReturnType<typeof startHaBroker>>;

export interface Msg { topic: string; text: string; json: any; retain: boolean } // any: tests read arbitrary JSON

/** A subscriber to everything on the broker (retained messages first), with helpers to read what HA would. */
export async function watch(url: string, auth: { username: string; password: string } | Record<string, never> = {}) {
  const { connectAsync } = await import('mqtt');
  const client = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, ...auth });
  const messages: Msg[] = [];
  client.on('message', (topic, payload, packet) => {
    const text = payload.toString('utf8');
    let json: unknown = null;
    try { json = JSON.parse(text); } catch { /* online/offline, empty */ }
    messages.push({ topic, text, json, retain: packet.retain });
  });
  await client.subscribeAsync('#', { qos: 1 });
  const latest = (topic: string) => messages.filter((m) => m.topic === topic).at(-1);
  return {
    client,
    messages,
    latest,
    /** Waits until the latest message on the topic passes the check; returns it. */
    until: (topic: string, ok: (m: Msg) => boolean, timeoutMs = 5000): Promise<Msg> => eventually(() => {
      const m = latest(topic);
      return m && ok(m) ? m : undefined;
    }, timeoutMs) as Promise<Msg>, // eventually resolves only with a truthy value
    /** The latest discovery config of every entity of one charger's device, by topic (removed ones left out). */
    configs(discoveryPrefix: string, slug: string) {
      const out = new Map<string, Msg>();
      for (const m of messages) {
        if (!m.topic.startsWith(`${discoveryPrefix}/`) || !m.topic.includes(`/chargekeeper_${slug}/`)) continue;
        if (m.text === '') out.delete(m.topic); else out.set(m.topic, m);
      }
      return out;
    },
    publish: (topic: string, body: string | Buffer, retain = false) => client.publishAsync(topic, body, { qos: 1, retain }),
    close: () => client.endAsync(true),
  };
}

export type Watcher = Awaited<ReturnType<typeof watch>>;

/** A charger that booted and said every connector is Available. */
export async function bootedCharger(t: TestApp, id: string, connectors = 1): Promise<TestChargePoint> {
  const cp = await t.chargePoint(id);
  await cp.boot({ chargePointSerialNumber: `SN-${id}`.slice(0, 25) });
  for (let n = 0; n <= connectors; n++) await cp.call('StatusNotification', { connectorId: n, errorCode: 'NoError', status: 'Available' });
  return cp;
}

/** A MeterValues of one connector: register (Wh) and power (W). */
export const meter = (connectorId: number, transactionId: number | undefined, wh: number, w: number, at = new Date().toISOString()) => ({
  connectorId, ...(transactionId !== undefined ? { transactionId } : {}),
  meterValue: [{
    timestamp: at,
    sampledValue: [
      { value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
      { value: String(w), measurand: 'Power.Active.Import', unit: 'W' },
    ],
  }],
});

/** The plugin's config for a broker, topics short so the tests read well. */
export const haConfig = (url: string, extra: Record<string, unknown> = {}) => ({
  url, discoveryPrefix: 'ha', topicPrefix: 'ck', timeout: '2s', ...extra,
});
