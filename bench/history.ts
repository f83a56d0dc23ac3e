/**
 * The `history` phase of `npm run bench`: a site's two years in one SQLite
 * file, then every operator page's API calls timed against it.
 *
 * The dataset is what a 20-charger site holds after 730 days with the default
 * retention: ~10 sessions per charger per day (30–180 min, 3–22 kW), priced
 * (one tariff, stored costs), cards of 60 drivers, four status changes per
 * session (a few faults), readings thinned to one per 15 min of energy and
 * power after 30 days and gone after 400; the last 30 days at one a minute
 * with four measurands. Schema and accounts come from booting the appliance
 * once; the rows are then written with better-sqlite3 directly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { priceSession } from '../plugins/billing/pricing.js';
import type { TariffDef } from '../plugins/billing/tariff.js';
import type { PricedSession } from '../plugins/billing/costs.js';
import { summaryColumns } from '../plugins/billing/cost-summary.js';

interface Server { port: number; startupMs: number; stop(): Promise<void> }
export interface HistoryOptions {
  /** Starts the built appliance on a data dir with these plugins. */
  start(dataDir: string, plugins: Record<string, unknown>): Promise<Server>;
  adminPassword: string;
  log(line?: string): void;
  args: { [K in keyof typeof historyOptions]?: string | boolean };
}

/** This phase's command-line options, parsed with the others by bench/ocpp-load.ts. */
export const historyOptions = {
  'history-days': { type: 'string', default: '730' },
  'history-chargers': { type: 'string', default: '20' },
  /** Calls per measured request. */
  'history-calls': { type: 'string', default: '20' },
  /** Leave the data dir in place (for EXPLAIN QUERY PLAN or a profile) and print where it is. */
  'history-keep': { type: 'boolean', default: false },
  /** Measure a data dir kept by an earlier run instead of generating one. */
  'history-dir': { type: 'string' },
} as const;

const MIN = 60_000;
const DAY = 86_400_000;
const KEEP_DAYS = 400;
const FULL_DAYS = 30;
const QUARTER = 15 * MIN;
export const HISTORY_PLUGINS = {
  users: { localList: { enabled: false } }, billing: { currency: 'EUR' }, diagnostics: {}, alerts: { channels: [] }, reservations: {},
};

/** A small deterministic generator, so every run builds the same site. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function api(port: number, token: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; text: string; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/api${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - t0 };
}

async function login(port: number, password: string): Promise<string> {
  const r = await api(port, null, 'POST', '/auth/login', { username: 'admin', password });
  if (r.status !== 200) throw new Error(`login answered ${r.status}: ${r.text}`);
  return (JSON.parse(r.text) as { token: string }).token;
}

export interface Generated { sessions: number; readings: number; statuses: number; seconds: number; bytes: number }

/** Writes the site's history into a database the appliance has migrated (and holds one tariff). */
export function generate(file: string, nowMs: number, days: number, chargerCount: number): Generated {
  const t0 = performance.now();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const rand = rng(20261207);
  const iso = (ms: number) => new Date(ms).toISOString();
  const startMs = Math.floor((nowMs - days * DAY) / DAY) * DAY;
  const version = db.prepare('SELECT id, tariff_id, body FROM billing_tariff_versions ORDER BY id LIMIT 1').get() as { id: number; tariff_id: number; body: string };
  const tariff = JSON.parse(version.body) as TariffDef;
  const tariffName = (tariff as unknown as { name?: string }).name ?? 'Standard';

  // Drivers and their cards (accounts without passwords: they only tap cards).
  const addAccount = db.prepare("INSERT INTO accounts (username, name, email, role, disabled, created_at, updated_at) VALUES (?, ?, NULL, 'driver', 0, ?, ?)");
  const addTag = db.prepare("INSERT INTO users_tags (id_tag_key, id_tag, user_id, status, created_at, updated_at) VALUES (?, ?, ?, 'Accepted', ?, ?)");
  const tags: Array<{ idTag: string; userId: number }> = [];
  db.transaction(() => {
    for (let i = 1; i <= 60; i++) {
      const userId = Number(addAccount.run(`driver${i}`, `Driver ${i}`, iso(startMs), iso(startMs)).lastInsertRowid);
      for (const k of [1, 2]) {
        const idTag = `CARD${String(i).padStart(3, '0')}${k}`;
        addTag.run(idTag.toLowerCase(), idTag, userId, iso(startMs), iso(startMs));
        tags.push({ idTag, userId });
      }
    }
  })();

  const addCharger = db.prepare("INSERT INTO chargers (id, name, approved, vendor, model, protocol, boot_status, registered_at, last_seen_at, last_boot_at) VALUES (?, ?, 1, 'Bench', 'AC22', 'ocpp1.6', 'Accepted', ?, ?, ?)");
  const addConnector = db.prepare("INSERT INTO connectors (charger_id, connector_id, status, error_code, status_at) VALUES (?, 1, 'Available', 'NoError', ?)");
  const addLink = db.prepare("INSERT INTO charger_messages (charger_id, action, payload, charger_time, received_at) VALUES (?, 'connected', NULL, NULL, ?)");
  const addBoot = db.prepare("INSERT INTO boot_notifications (charger_id, payload, status, received_at) VALUES (?, '{}', 'Accepted', ?)");
  const addStatus = db.prepare("INSERT INTO status_notifications (charger_id, connector_id, status, error_code, charger_time, received_at) VALUES (?, 1, ?, ?, ?, ?)");
  const addTx = db.prepare(`INSERT INTO transactions (charger_id, connector_id, id_tag, user_id, start_status, meter_start_wh, started_at, meter_stop_wh, stopped_at, stop_reason, energy_wh, received_at)
    VALUES (?, 1, ?, ?, 'Accepted', ?, ?, ?, ?, ?, ?, ?)`);
  const addReading = db.prepare("INSERT INTO meter_values (transaction_id, charger_id, connector_id, at, measurand, phase, location, context, unit, value) VALUES (?, ?, 1, ?, ?, '', '', 'Sample.Periodic', ?, ?)");
  const addBilling = db.prepare('INSERT INTO billing_sessions (transaction_id, tariff_id, tariff_version_id, rule, user_id, group_key, resolved_at) VALUES (?, ?, ?, NULL, ?, NULL, ?)');
  const addCost = db.prepare('INSERT INTO billing_costs (transaction_id, tariff_id, tariff_version_id, currency, amount, vat_amount, energy_wh, detail, computed_at, tariff_name, tariff_version, rule, net_amount, calculation) VALUES (@transaction_id, @tariff_id, @tariff_version_id, @currency, @amount, @vat_amount, @energy_wh, @detail, @computed_at, @tariff_name, @tariff_version, @rule, @net_amount, @calculation)');
  const status = (id: string, s: string, atMs: number, error = 'NoError') => { addStatus.run(id, s, error, iso(atMs), iso(atMs)); statuses++; };

  let sessions = 0;
  let readings = 0;
  let statuses = 0;
  const keepFrom = nowMs - KEEP_DAYS * DAY;
  const fullFrom = nowMs - FULL_DAYS * DAY;
  const session = (id: string, begin: number, end: number, wh0: number, kw: number): number => {
    const open = end > nowMs;
    const stop = open ? nowMs : end;
    const whAt = (ms: number) => Math.round(wh0 + (kw * 1000 * (ms - begin)) / 3_600_000);
    const tag = tags[Math.floor(rand() * tags.length)]!;
    const wh1 = whAt(stop);
    const txId = Number(addTx.run(id, tag.idTag, tag.userId, wh0, iso(begin), open ? null : wh1, open ? null : iso(stop),
      open ? null : 'Local', open ? null : wh1 - wh0, iso(begin)).lastInsertRowid);
    sessions++;
    addBilling.run(txId, version.tariff_id, version.id, tag.userId, iso(begin));
    if (!open) {
      const breakdown = priceSession(tariff, { startMs: begin, stopMs: stop, meterStartWh: wh0, meterStopWh: wh1, energy: [], power: [], accepted: true },
        { timezone: 'Europe/Berlin', idleBelowW: 100 });
      const detail: PricedSession = { transactionId: txId, tariffId: version.tariff_id, tariffName, tariffVersion: 1, tariffVersionId: version.id, rule: null, estimate: false, breakdown };
      // The columns as the billing plugin stores them.
      addCost.run({
        transaction_id: txId, tariff_id: version.tariff_id, tariff_version_id: version.id, currency: breakdown.currency, amount: breakdown.amount,
        vat_amount: breakdown.vatAmount, energy_wh: breakdown.energyWh, detail: JSON.stringify(detail), computed_at: iso(stop), ...summaryColumns(detail),
      });
    }
    // Readings as retention leaves them: none after 400 days, the last per quarter hour after 30, all of the last 30 days.
    if (stop > keepFrom) {
      const reading = (ms: number, measurand: string, unit: string, value: number) => { addReading.run(txId, id, iso(ms), measurand, unit, value); readings++; };
      for (let t = begin + MIN; t <= stop; t += MIN) {
        const last = t + MIN > stop;
        if (t < keepFrom) continue;
        if (t < fullFrom && !last && Math.floor(t / QUARTER) === Math.floor((t + MIN) / QUARTER)) continue;
        const w = Math.round(kw * 1000 * (0.95 + rand() * 0.1));
        reading(t, 'Energy.Active.Import.Register', 'Wh', whAt(t));
        reading(t, 'Power.Active.Import', 'W', w);
        if (t >= fullFrom) {
          reading(t, 'Current.Import', 'A', Math.round(w / 690));
          reading(t, 'Voltage', 'V', 229 + Math.round(rand() * 4));
        }
      }
    }
    return wh1;
  };

  for (let c = 1; c <= chargerCount; c++) {
    const id = `CP${String(c).padStart(2, '0')}`;
    db.transaction(() => {
      addCharger.run(id, `Bay ${c}`, iso(startMs), iso(nowMs - 5 * MIN), iso(startMs));
      addConnector.run(id, iso(startMs));
      addBoot.run(id, iso(startMs));
      addLink.run(id, iso(startMs));
      status(id, 'Available', startMs);
    })();
    let t = startMs + rand() * 60 * MIN;
    let wh = Math.round(rand() * 1e6);
    // One transaction per 20 sessions keeps each commit large but the WAL small.
    let batch: Array<() => void> = [];
    const flush = () => { db.transaction(() => { for (const f of batch) f(); })(); batch = []; };
    while (t < nowMs) {
      const begin = t;
      const end = begin + (30 + rand() * 150) * MIN;
      const kw = 3 + rand() * 19;
      const faulted = rand() < 0.005;
      batch.push(() => {
        status(id, 'Preparing', begin - MIN);
        status(id, 'Charging', begin);
        wh = session(id, begin, end, wh, kw);
        if (end <= nowMs) {
          status(id, 'Finishing', end);
          status(id, faulted ? 'Faulted' : 'Available', end + MIN, faulted ? 'GroundFailure' : 'NoError');
          if (faulted) status(id, 'Available', end + (10 + rand() * 50) * MIN);
        }
      });
      if (batch.length >= 20) flush();
      t = end + (faulted ? 61 : 5 + rand() * 68) * MIN;
    }
    flush();
  }
  // Retention is up to date, as on a site that has been running: the next hourly pass starts from here.
  const thinnedUntil = iso(Math.floor((nowMs - FULL_DAYS * DAY) / DAY) * DAY);
  db.prepare("INSERT INTO storage_marks (name, value) VALUES ('meter_values.downsampled_until', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value").run(thinnedUntil);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('ANALYZE');
  const bytes = (db.prepare('SELECT page_count * page_size AS b FROM pragma_page_count(), pragma_page_size()').get() as { b: number }).b;
  db.close();
  return { sessions, readings, statuses, seconds: (performance.now() - t0) / 1000, bytes };
}

/** The calls behind each operator page, with the ranges they ask for. */
function requests(nowMs: number, txId: number, userId: number, tz: string): Array<{ page: string; path: string }> {
  const month = new Date(nowMs - 30 * DAY).toISOString();
  const year = new Date(nowMs - 365 * DAY).toISOString();
  const now = new Date(nowMs).toISOString();
  const lastMonth = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit' }).format(nowMs - 30 * DAY).slice(0, 7);
  const q = (s: string) => encodeURIComponent(s);
  return [
    { page: 'dashboard', path: '/chargers' },
    { page: 'dashboard', path: '/site' },
    { page: 'dashboard', path: '/stats/energy?days=14' },
    { page: 'dashboard: energy chart, a month', path: '/stats/energy?days=30' },
    { page: 'dashboard: energy chart, a year', path: '/stats/energy?days=365' },
    { page: 'sessions', path: '/transactions?limit=500' },
    { page: 'sessions: a month', path: `/transactions?from=${q(month)}&to=${q(now)}&limit=1000` },
    { page: 'session detail', path: `/transactions/${txId}` },
    { page: 'billing: export of a month (CSV)', path: `/statements/export?period=${lastMonth}` },
    { page: 'billing: export of a month (JSON)', path: `/statements/export?period=${lastMonth}&format=json` },
    { page: 'billing: a driver\'s statement of a month', path: `/statements?userId=${userId}&period=${lastMonth}` },
    { page: 'billing: a driver\'s statement (CSV)', path: `/statements?userId=${userId}&period=${lastMonth}&format=csv` },
    { page: 'charger', path: '/chargers/CP01' },
    { page: 'charger: status history', path: '/chargers/CP01/status-history?limit=100' },
    { page: 'charger: status history, 1,000', path: '/chargers/CP01/status-history?limit=1000' },
    { page: 'health: every charger', path: '/diagnostics/health' },
    { page: 'health: one charger (30 days)', path: '/diagnostics/health/CP01' },
    { page: 'availability: a month', path: `/diagnostics/availability/CP01?from=${q(month)}&to=${q(now)}` },
    { page: 'availability: a year', path: `/diagnostics/availability/CP01?from=${q(year)}&to=${q(now)}` },
    { page: 'findings', path: '/diagnostics/findings' },
    { page: 'alerts', path: '/alerts' },
    { page: 'reservations', path: '/reservations' },
    { page: 'users', path: '/users' },
    { page: 'tags', path: '/tags' },
  ];
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

export async function historyBench(opts: HistoryOptions): Promise<void> {
  const o = {
    ...opts, days: Number(opts.args['history-days'] ?? 730), chargers: Number(opts.args['history-chargers'] ?? 20),
    calls: Number(opts.args['history-calls'] ?? 20), reuse: typeof opts.args['history-dir'] === 'string' ? opts.args['history-dir'] : null,
  };
  o.log(`## A site's history: ${o.chargers} chargers, ${o.days} days; every operator page's calls, ${o.calls} each after one warm-up`);
  const dir = o.reuse ?? mkdtempSync(join(tmpdir(), 'chargekeeper-history-'));
  const keep = o.reuse !== null || opts.args['history-keep'] === true;
  const nowMs = Date.now();
  try {
    let app: Server;
    let token: string;
    if (!o.reuse) {
      // Schema, admin account and a default tariff, made by the appliance itself.
      app = await o.start(dir, HISTORY_PLUGINS);
      token = await login(app.port, o.adminPassword);
      const created = await api(app.port, token, 'POST', '/tariffs', { name: 'Standard', pricePerKwh: 0.30, sessionFee: 1.00, vatPct: 19, isDefault: true });
      if (created.status !== 201) throw new Error(`tariff answered ${created.status}: ${created.text}`);
      await app.stop();
      const g = generate(join(dir, 'chargekeeper.sqlite'), nowMs, o.days, o.chargers);
      o.log(`Generated ${o.chargers} chargers × ${o.days} days: ${g.sessions.toLocaleString('en')} sessions, ${g.readings.toLocaleString('en')} meter readings, `
        + `${g.statuses.toLocaleString('en')} status changes in ${g.seconds.toFixed(0)} s; database ${(g.bytes / 1e6).toFixed(0)} MB.`);
    }

    app = await o.start(dir, HISTORY_PLUGINS);
    o.log(`Startup on that database, process spawn to listening: ${app.startupMs.toFixed(0)} ms.`);
    o.log();
    token = await login(app.port, o.adminPassword);
    const site = JSON.parse((await api(app.port, token, 'GET', '/site')).text) as { timezone: string };
    // A session of last week and its driver, as an operator would open them.
    const probe = JSON.parse((await api(app.port, token, 'GET', `/transactions?from=${encodeURIComponent(new Date(nowMs - 7 * DAY).toISOString())}&limit=1`)).text) as Array<{ id: number; userId: number }>;
    const list = requests(nowMs, probe[0]!.id, probe[0]!.userId, site.timezone);
    o.log(`| page: call | status | bytes | p50 ms | p95 ms | max ms |`);
    o.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const r of list) {
      const ms: number[] = [];
      let last = { status: 0, text: '', ms: 0 };
      await api(app.port, token, 'GET', r.path); // warm-up, not counted
      for (let i = 0; i < o.calls; i++) { last = await api(app.port, token, 'GET', r.path); ms.push(last.ms); }
      ms.sort((a, b) => a - b);
      o.log(`| ${r.page}: \`GET /api${r.path.replace(/\|/g, '\\|')}\` | ${last.status} | ${last.text.length.toLocaleString('en')} | ${pct(ms, 0.5).toFixed(1)} | ${pct(ms, 0.95).toFixed(1)} | ${ms[ms.length - 1]!.toFixed(1)} |`);
    }
    o.log();
    await app.stop();
  } finally {
    if (keep) o.log(`Data dir kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
