/**
 * The `alerts` phase of `npm run bench`: how long after a charger's socket
 * closes does the first offline notice reach each channel's peer?
 *
 * Real peers run in this process on loopback: an SMTP server (smtp-server),
 * an MQTT broker (aedes) and a webhook receiver (node:http). The appliance
 * runs in its own process with users, diagnostics (short offlineAfter) and
 * alerts with one channel of each type. Chargers connect, boot and report
 * a status, then their sockets are closed one at a time; each peer stamps
 * the arrival of the first notice naming the charger. Close and arrival are
 * both read from this process's clock (performance.now()), so no clock is
 * compared with another.
 */
import { createServer as createHttpServer } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { Aedes } from 'aedes';
import { SMTPServer } from 'smtp-server';
import { FramedCharger } from './framed.js';

export interface AlertLatencyOptions {
  /** Chargers, each disconnected once (so the flapping check never sees a charger drop twice). */
  disconnects: number;
  /** Pause between two disconnects, ms. */
  intervalMs: number;
  /** diagnostics.offlineAfter, ms. */
  offlineAfterMs: number;
  /** A charger with no notice this long after its close counts as missed, ms. */
  timeoutMs: number;
  /** The admin password the appliance was started with, to read its alert and outbox timestamps. */
  adminPassword: string;
}

/** The appliance under test, started by the caller with the plugin config it is given. */
export interface App { port: number; stop(): Promise<void> }

export const CHANNELS = ['email', 'mqtt', 'webhook'] as const;
type Channel = (typeof CHANNELS)[number];

export interface AlertLatencyResult {
  opts: AlertLatencyOptions;
  /** The plugin config the appliance ran with (peer ports included), for the report. */
  plugins: Record<string, unknown>;
  chargers: string[];
  /** Per channel: charger id -> ms from its socket close to the first notice naming it. */
  latency: Record<Channel, Map<string, number>>;
  /** Notices that were not a first offline notice of a bench charger (should be none). */
  other: Record<Channel, string[]>;
  /** Server-side split of the time, from the appliance's own records (ms after the close): raised, queued, sent. */
  server: { raised: number[]; queued: number[]; attempted: Record<Channel, number[]>; sent: Record<Channel, number[]> };
  wallSeconds: number;
  /** 1-minute load average at the start and the end of the phase: other work on the machine slows every figure. */
  load: [number, number];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Charger ids of the phase: zero-padded so that no id is a prefix of another. */
const chargerId = (i: number) => `ALRT${String(i).padStart(4, '0')}`;
const ID_RE = /\b(ALRT\d{4})\b/;

interface Peers {
  smtpPort: number;
  mqttUrl: string;
  hookUrl: string;
  /** Called with (channel, text naming the notice, arrival time); the text decides which charger it is about. */
  onNotice: (fn: (channel: Channel, kind: string, charger: string | null, at: number) => void) => void;
  close(): Promise<void>;
}

async function startPeers(): Promise<Peers> {
  let listener: (channel: Channel, kind: string, charger: string | null, at: number) => void = () => undefined;
  const emit = (channel: Channel, kind: string, charger: string | null, at: number) => listener(channel, kind, charger, at);

  // SMTP: the arrival is when the message's DATA is complete and accepted.
  const smtp = new SMTPServer({
    logger: false, disabledCommands: ['STARTTLS'], authOptional: true,
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const at = performance.now();
        const raw = Buffer.concat(chunks).toString('utf8');
        // Subject lines may be folded; the unfolded line says what the notice is ("CRITICAL: Charger X is offline").
        const subject = /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(raw)?.[1]?.replace(/\r?\n[ \t]/g, ' ') ?? '';
        const kind = /RESOLVED|STILL OPEN/.test(subject) ? 'other' : /is offline/.test(subject) ? 'offline' : 'other';
        emit('email', kind === 'offline' ? 'offline' : subject, ID_RE.exec(subject)?.[1] ?? null, at);
        cb();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    smtp.once('error', reject);
    smtp.listen(0, '127.0.0.1', () => resolve());
  });
  const smtpPort = (smtp.server.address() as AddressInfo).port;

  // MQTT: the arrival is when the broker has the publish (its 'publish' event, before it answers PUBACK).
  const broker = await Aedes.createBroker();
  broker.on('publish', (packet, client) => {
    if (!client) return; // the broker's own $SYS messages
    const at = performance.now();
    emitJson('mqtt', packet.payload.toString('utf8'), at);
  });
  const mqttServer: NetServer = createNetServer(broker.handle);
  await new Promise<void>((r) => mqttServer.listen(0, '127.0.0.1', r));
  const mqttUrl = `mqtt://127.0.0.1:${(mqttServer.address() as AddressInfo).port}`;

  // Webhook: the arrival is when the request's headers are in; the body (read after) says what it is about.
  const hook = createHttpServer((req, res) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      emitJson('webhook', Buffer.concat(chunks).toString('utf8'), at);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;

  function emitJson(channel: Channel, text: string, at: number): void {
    let body: { kind?: unknown; notice?: unknown; chargerId?: unknown } = {};
    try { body = JSON.parse(text) as typeof body; } catch { /* not a notice: counted as other */ }
    const charger = typeof body.chargerId === 'string' ? body.chargerId : null;
    const first = body.kind === 'offline' && body.notice === 'raised';
    emit(channel, first ? 'offline' : `${String(body.kind)}/${String(body.notice)}`, charger, at);
  }

  return {
    smtpPort, mqttUrl, hookUrl,
    onNotice: (fn) => { listener = fn; },
    async close() {
      await new Promise<void>((r) => smtp.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => mqttServer.close(() => r()));
      hook.closeAllConnections();
      await new Promise<void>((r) => hook.close(() => r()));
    },
  };
}

/** The plugins the phase runs the appliance with; every key is reported. */
function pluginConfig(peers: Peers, opts: AlertLatencyOptions): Record<string, unknown> {
  return {
    users: {},
    diagnostics: { offlineAfter: `${opts.offlineAfterMs}ms` },
    alerts: {
      channels: [
        { name: 'mail', type: 'email', smtp: { host: '127.0.0.1', port: peers.smtpPort }, from: 'chargekeeper@bench.invalid', to: ['ops@bench.invalid'] },
        { name: 'mqtt', type: 'mqtt', url: peers.mqttUrl, topic: 'chargekeeper/alerts' },
        { name: 'hook', type: 'webhook', url: peers.hookUrl },
      ],
      // More than the chargers there are: no power-outage grouping, so every offline alert sends its own first notice.
      outage: { minChargers: opts.disconnects + 1, within: '1m' },
    },
  };
}

/** Reads the appliance's own timestamps of each charger's offline alert and its deliveries. */
async function serverSplit(port: number, password: string, closedWall: Map<string, number>): Promise<AlertLatencyResult['server']> {
  const base = `http://127.0.0.1:${port}/api`;
  const login = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
  const { token } = (await login.json()) as { token: string };
  const get = async <T>(path: string): Promise<T> => (await (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } })).json()) as T;
  const alerts = await get<Array<{ id: number; chargerId: string | null; raisedAt: string }>>('/alerts?kind=offline&limit=1000');
  const deliveries = await get<Array<{ alertId: number | null; channel: string; kind: string; createdAt: string; lastAttemptAt: string | null; sentAt: string | null }>>('/alerts/deliveries?limit=1000');
  const out: AlertLatencyResult['server'] = { raised: [], queued: [], attempted: { email: [], mqtt: [], webhook: [] }, sent: { email: [], mqtt: [], webhook: [] } };
  const byName: Record<string, Channel> = { mail: 'email', mqtt: 'mqtt', hook: 'webhook' };
  for (const a of alerts) {
    const closed = a.chargerId ? closedWall.get(a.chargerId) : undefined;
    if (closed === undefined) continue;
    out.raised.push(Date.parse(a.raisedAt) - closed);
    const mine = deliveries.filter((d) => d.alertId === a.id && d.kind === 'raised');
    if (mine.length) out.queued.push(Math.min(...mine.map((d) => Date.parse(d.createdAt))) - closed);
    for (const d of mine) {
      const ch = byName[d.channel];
      if (ch && d.lastAttemptAt) out.attempted[ch].push(Date.parse(d.lastAttemptAt) - closed);
      if (ch && d.sentAt) out.sent[ch].push(Date.parse(d.sentAt) - closed);
    }
  }
  return out;
}

export async function alertLatency(startApp: (plugins: Record<string, unknown>) => Promise<App>, opts: AlertLatencyOptions): Promise<AlertLatencyResult> {
  const t0 = performance.now();
  const load0 = loadavg()[0]!;
  const peers = await startPeers();
  const plugins = pluginConfig(peers, opts);
  const app = await startApp(plugins);
  const chargers = Array.from({ length: opts.disconnects }, (_, i) => chargerId(i));
  const closedAt = new Map<string, number>();
  const closedWall = new Map<string, number>();
  const latency: AlertLatencyResult['latency'] = { email: new Map(), mqtt: new Map(), webhook: new Map() };
  const other: AlertLatencyResult['other'] = { email: [], mqtt: [], webhook: [] };
  peers.onNotice((channel, kind, charger, at) => {
    const closed = charger ? closedAt.get(charger) : undefined;
    if (kind !== 'offline' || !charger || closed === undefined || latency[channel].has(charger)) {
      other[channel].push(`${kind} ${charger ?? '(no charger)'}`);
      return;
    }
    latency[channel].set(charger, at - closed);
  });

  try {
    const clients = await Promise.all(chargers.map(async (id) => {
      const c = await FramedCharger.open(app.port, id);
      const boot = await c.call<{ status: string }>('BootNotification', { chargePointVendor: 'Bench', chargePointModel: 'Alerts' });
      if (boot.status !== 'Accepted') throw new Error(`${id}: BootNotification ${boot.status}`);
      await c.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: new Date().toISOString() });
      return { id, c };
    }));
    // Settled: the connect events are handled and nothing is left from the boot storm before the first close.
    await sleep(2000);
    for (const { id, c } of clients) {
      closedAt.set(id, performance.now());
      closedWall.set(id, Date.now());
      await c.close();
      await sleep(opts.intervalMs);
    }
    const lastClose = performance.now();
    const allIn = () => CHANNELS.every((ch) => latency[ch].size === chargers.length);
    while (!allIn() && performance.now() - lastClose < opts.timeoutMs) await sleep(100);
    // A little longer, so a duplicate or a stray notice would show up in the report.
    await sleep(500);
    const server = await serverSplit(app.port, opts.adminPassword, closedWall);
    return { opts, plugins, chargers, latency, other, server, wallSeconds: (performance.now() - t0) / 1000, load: [load0, loadavg()[0]!] };
  } finally {
    await app.stop();
    await peers.close();
  }
}

const quantile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The phase's Markdown lines: what was configured, per channel figures, PASS/FAIL against offlineAfter + 2 s. */
export function alertReport(r: AlertLatencyResult): string[] {
  const { opts } = r;
  const target = opts.offlineAfterMs + 2000;
  const lines: string[] = [];
  lines.push(`Configured: plugins users, diagnostics { offlineAfter: ${opts.offlineAfterMs / 1000} s, other keys default (flapping 3 drops in 30 s, evaluateEvery 15 s) }, `
    + `alerts { channels: email to smtp-server, mqtt to aedes, webhook (generic JSON) to node:http, all in the bench process on 127.0.0.1; `
    + `default escalation (every channel at once); outage { minChargers: ${opts.disconnects + 1}, within: 1m } so no offline alert is grouped }. `
    + `${r.chargers.length} chargers booted (Accepted) and sent a StatusNotification; after 2 s their sockets were closed one at a time, ${opts.intervalMs} ms apart, each charger once (no flapping).`);
  lines.push('');
  lines.push('| channel | received / expected | p50 | p99 | max | p99 ≤ offlineAfter + 2 s |');
  lines.push('| --- | ---: | ---: | ---: | ---: | --- |');
  const missed: string[] = [];
  for (const ch of CHANNELS) {
    const xs = [...r.latency[ch].values()].sort((a, b) => a - b);
    const p99 = xs.length ? quantile(xs, 0.99) : Infinity;
    const complete = xs.length === r.chargers.length;
    const pass = complete && p99 <= target;
    lines.push(`| ${ch} | ${xs.length} / ${r.chargers.length} | ${xs.length ? s(quantile(xs, 0.5)) : '–'} | ${xs.length ? s(p99) : '–'} | ${xs.length ? s(xs[xs.length - 1]!) : '–'} | ${pass ? 'PASS' : 'FAIL'} (≤ ${s(target)}) |`);
    for (const id of r.chargers) if (!r.latency[ch].has(id)) missed.push(`${ch}: ${id}`);
  }
  lines.push('');
  lines.push(missed.length
    ? `No notice within offlineAfter + ${(opts.timeoutMs - opts.offlineAfterMs) / 1000} s of the last close: ${missed.join(', ')}.`
    : `Every charger's first notice arrived on every channel.`);
  const stray = CHANNELS.flatMap((ch) => r.other[ch].map((o) => `${ch}: ${o}`));
  lines.push(stray.length ? `Other notices (duplicates or not a first offline notice): ${stray.length} — ${stray.slice(0, 10).join('; ')}${stray.length > 10 ? ' …' : ''}.` : 'No other notice arrived (no duplicates).');
  const split = (xs: number[]) => {
    if (!xs.length) return '–';
    const sorted = [...xs].sort((a, b) => a - b);
    return `p50 ${s(quantile(sorted, 0.5))}, p99 ${s(quantile(sorted, 0.99))}`;
  };
  lines.push(`Where the time goes, from the appliance's records (after the close, ms clock): alert raised ${split(r.server.raised)}; `
    + `first notice queued ${split(r.server.queued)}; send started: e-mail ${split(r.server.attempted.email)}, MQTT ${split(r.server.attempted.mqtt)}, webhook ${split(r.server.attempted.webhook)}; marked sent: e-mail ${split(r.server.sent.email)}, MQTT ${split(r.server.sent.mqtt)}, webhook ${split(r.server.sent.webhook)}.`);
  lines.push(`Phase wall time ${r.wallSeconds.toFixed(0)} s; load average ${r.load[0].toFixed(1)} at the start, ${r.load[1].toFixed(1)} at the end (${cpus().length} cores).`);
  return lines;
}
