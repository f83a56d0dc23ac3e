import {
  Counter, Gauge, Histogram, Registry, collectDefaultMetrics,
  type CounterConfiguration, type GaugeConfiguration, type HistogramConfiguration,
} from 'prom-client';
import type { Knex } from 'knex';
import type { Bus } from './bus.js';
import type { GroupWriter } from './db/writer.js';
import { errorMessage } from './errors.js';
import type { Readings } from './readings.js';
import type { Logger } from './types.js';

/**
 * Prometheus metrics, as plugins get them through ctx.core.metrics (prom-client's metric classes).
 * Names start with `chargekeeper_`. On the hot path only increment in memory; anything that needs
 * the database goes in `collect()`, which runs at scrape time and must be bounded (one GROUP BY,
 * a lookup per stored charger). Label values must come from a bounded set (known chargers, states
 * from the plugin's own code), never from what a charger or a user sent.
 */
export interface MetricsRegistry {
  counter<T extends string>(config: CounterConfiguration<T>): Counter<T>;
  gauge<T extends string>(config: GaugeConfiguration<T>): Gauge<T>;
  histogram<T extends string>(config: HistogramConfiguration<T>): Histogram<T>;
}

const NAME = /^chargekeeper_[a-z][a-z0-9_]*$/;

/** CPU, memory, event-loop lag, GC and handles belong to the process: one registry for every app in it. */
let processRegistry: Registry | undefined;

/** One app's metrics; `scrape()` renders them with the process's in the text exposition format. */
export class Metrics implements MetricsRegistry {
  readonly #registry = new Registry();
  readonly #log: Logger;

  constructor(log: Logger, withProcess: boolean) {
    this.#log = log;
    if (withProcess && !processRegistry) {
      processRegistry = new Registry();
      collectDefaultMetrics({ register: processRegistry });
    }
  }

  counter<T extends string>(config: CounterConfiguration<T>): Counter<T> {
    return new Counter({ ...this.#checked(config), registers: [this.#registry] });
  }

  gauge<T extends string>(config: GaugeConfiguration<T>): Gauge<T> {
    return new Gauge({ ...this.#checked(config), registers: [this.#registry] });
  }

  histogram<T extends string>(config: HistogramConfiguration<T>): Histogram<T> {
    return new Histogram({ ...this.#checked(config), registers: [this.#registry] });
  }

  /**
   * A collect() that fails resets its metric for this scrape (no series; 0 without labels) and logs why, once
   * until it works again; the other metrics are still served.
   */
  #checked<C extends { name: string; collect?: (this: never) => void | Promise<void> }>(config: C): C {
    if (!NAME.test(config.name)) throw new Error(`metric ${config.name}: a name starts with chargekeeper_ and has only a-z, 0-9 and _`);
    const { collect } = config;
    if (!collect) return config;
    const log = this.#log;
    let failing = false;
    return {
      ...config,
      async collect(this: { reset(): void }) {
        try {
          await (collect as (this: unknown) => void | Promise<void>).call(this);
          failing = false;
        } catch (err) {
          this.reset();
          if (!failing) log.warn(`metric ${config.name}: collect failed: ${errorMessage(err)}`);
          failing = true;
        }
      },
    };
  }

  async scrape(): Promise<{ contentType: string; text: string }> {
    const [own, proc] = await Promise.all([this.#registry.metrics(), processRegistry?.metrics() ?? '']);
    return { contentType: this.#registry.contentType, text: proc ? `${own}\n${proc}` : own };
  }
}

/** Buckets of the latency histograms, in seconds: half a millisecond to the 30 s call timeout. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What the core's own metrics read: storage, the bus, and which chargers have a socket. */
export interface CoreMetricsDeps {
  db: Knex;
  bus: Bus;
  writer: GroupWriter;
  readings: Readings;
  onlineIds(): string[];
}

/** Chargers, sessions, energy and power of the stored chargers, read once per scrape for every gauge below. */
interface SiteNow { chargers: Array<{ id: string; approved: boolean }>; online: Set<string>; energyWh: Map<string, number>; powerW: Map<string, number>; activeSessions: number }

const sumInto = (map: Map<string, number>, key: string, value: number) => map.set(key, (map.get(key) ?? 0) + value);

/**
 * Three queries bounded by the stored chargers: their rows, each connector's last session (transactions_resend),
 * and their open sessions (index charger_id, stopped_at) with their newest readings (index transaction_id, at).
 * Energy is the car-side register of each connector's last session, summed per charger; power the newest
 * car-side reading of each open session (phases added up when there is no total), only while connected.
 */
async function readSite(d: CoreMetricsDeps): Promise<SiteNow> {
  const rows = await d.db('chargers').orderBy('id').select('id', 'approved') as Array<{ id: string; approved: number | boolean }>;
  const chargers = rows.map((r) => ({ id: r.id, approved: Boolean(r.approved) }));
  const online = new Set(d.onlineIds());
  const ended = await d.db('connectors as c').select('c.charger_id', 'c.connector_id', d.db('transactions as t')
    .whereRaw('t.charger_id = c.charger_id and t.connector_id = c.connector_id').orderBy('t.started_at', 'desc').limit(1)
    .select('t.meter_stop_wh').as('wh')) as Array<{ charger_id: string; connector_id: number; wh: number | null }>;
  const open = await d.readings.newestOfOpenSessions();
  const byConnector = new Map<string, number>();
  for (const c of ended) if (c.wh != null) byConnector.set(`${c.charger_id}\n${c.connector_id}`, Number(c.wh));
  const powerW = new Map<string, number>(chargers.filter((c) => online.has(c.id)).map((c) => [c.id, 0]));
  for (const t of open) {
    byConnector.set(`${t.chargerId}\n${t.connectorId}`, t.energyWh ?? t.meterStartWh);
    if (powerW.has(t.chargerId)) sumInto(powerW, t.chargerId, t.powerW ?? 0);
  }
  const energyWh = new Map<string, number>();
  for (const [key, wh] of byConnector) sumInto(energyWh, key.slice(0, key.indexOf('\n')), wh);
  return { chargers, online, energyWh, powerW, activeSessions: new Set(open.map((t) => `${t.chargerId}\n${t.connectorId}`)).size };
}

/** The core's metrics besides the OCPP traffic (core/ocpp/metrics.ts): chargers, sessions, energy, storage. */
export function registerCoreMetrics(m: MetricsRegistry, d: CoreMetricsDeps): void {
  // prom-client starts every collect() of a scrape in one go: they share the read in flight, and the next scrape reads anew.
  let reading: Promise<SiteNow> | null = null;
  const site = () => (reading ??= readSite(d).finally(() => { reading = null; }));
  const perCharger = (values: (s: SiteNow) => Map<string, number>) => async function collect(this: Gauge<'charger'>) {
    const map = values(await site());
    this.reset();
    for (const [charger, value] of map) this.set({ charger }, value);
  };
  m.gauge({ name: 'chargekeeper_chargers_connected', help: 'Chargers with an open OCPP socket', collect() { this.set(d.onlineIds().length); } });
  m.gauge({
    name: 'chargekeeper_chargers_offline', help: 'Approved chargers without an open OCPP socket',
    async collect() { const s = await site(); this.set(s.chargers.filter((c) => c.approved && !s.online.has(c.id)).length); },
  });
  m.gauge({
    name: 'chargekeeper_charger_connected', help: '1 while a stored charger has an open OCPP socket, else 0', labelNames: ['charger'],
    collect: perCharger((s) => new Map(s.chargers.map((c) => [c.id, s.online.has(c.id) ? 1 : 0]))),
  });
  m.gauge({ name: 'chargekeeper_charger_energy_wh', help: 'Energy register of each charger (car side, its connectors added up), from its latest meter values, in Wh', labelNames: ['charger'], collect: perCharger((s) => s.energyWh) });
  m.gauge({ name: 'chargekeeper_charger_power_w', help: 'Power drawn at each connected charger now (newest reading of its running sessions), in W', labelNames: ['charger'], collect: perCharger((s) => s.powerW) });
  m.gauge({ name: 'chargekeeper_sessions_active', help: 'Charging sessions running (connectors with an open session)', async collect() { this.set((await site()).activeSessions); } });
  const started = m.counter({ name: 'chargekeeper_sessions_started_total', help: 'Sessions started since the appliance started' });
  const stopped = m.counter({ name: 'chargekeeper_sessions_stopped_total', help: 'Sessions stopped (by the charger, or superseded) since the appliance started' });
  d.bus.on('session.started', () => started.inc());
  d.bus.on('session.stopped', () => stopped.inc());
  const commits = m.histogram({ name: 'chargekeeper_db_commit_seconds', help: 'Group commits of the write queue (transaction and fsync), in s', buckets: LATENCY_BUCKETS });
  d.writer.onCommit = (seconds) => commits.observe(seconds);
  m.counter({ name: 'chargekeeper_db_writes_total', help: 'Writes committed; a group commit carries several', collect() { this.reset(); this.inc(d.writer.stats.writes); } });
}
