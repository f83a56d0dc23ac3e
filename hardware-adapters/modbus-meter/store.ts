import type { Knex } from 'knex';
import type { Migration } from '../../core/types.js';
import type { MeterReading } from './model.js';

/**
 * History keeps three resolutions: every sample for a day, minute averages
 * for a month, hourly averages after that. Times are ISO 8601 UTC strings
 * (fixed width, so they sort and cut as text on SQLite and PostgreSQL alike).
 */
export const RAW_KEEP_MS = 24 * 3_600_000;
export const MINUTES_KEEP_MS = 30 * 24 * 3_600_000;

export type Resolution = 'raw' | 'minute' | 'hour';

/** Most raw points one history request returns. */
export const RAW_LIMIT = 100_000;

export interface HistoryPoint {
  at: string;
  /** Average over the bucket (the sample itself for raw). */
  powerW: number | null;
  /** Meter register at the end of the bucket. */
  energyImportWh: number | null;
}

export const migrations: Migration[] = [
  {
    id: '001-readings',
    async up(db) {
      await db.schema.createTable('meters_readings', (t) => {
        t.increments('id');
        t.string('meter_id', 64).notNullable();
        t.string('at', 32).notNullable();
        t.double('power_w');
        t.double('energy_import_wh');
        t.double('energy_export_wh');
        // Per-phase lists as JSON text: read back whole, never queried into.
        t.string('voltage_v', 100);
        t.string('current_a', 100);
        t.double('frequency_hz');
        t.double('power_factor');
        t.index(['meter_id', 'at']);
        t.index(['at']);
      });
      for (const table of ['meters_minutes', 'meters_hours']) {
        await db.schema.createTable(table, (t) => {
          t.string('meter_id', 64).notNullable();
          t.string('at', 32).notNullable();
          t.integer('samples').notNullable();
          t.double('power_w');
          t.double('power_w_min');
          t.double('power_w_max');
          t.double('energy_import_wh');
          t.double('energy_export_wh');
          t.primary(['meter_id', 'at']);
          t.index(['at']);
        });
      }
    },
    async down(db) {
      for (const table of ['meters_readings', 'meters_minutes', 'meters_hours']) await db.schema.dropTableIfExists(table);
    },
  },
  {
    id: '002-status',
    async up(db) {
      // Survives a restart, so a meter that was unreachable before it announces its return after it.
      await db.schema.createTable('meters_status', (t) => {
        t.string('meter_id', 64).primary();
        t.boolean('reachable').notNullable();
        t.string('changed_at', 32).notNullable();
        t.text('last_error');
      });
    },
    async down(db) {
      await db.schema.dropTableIfExists('meters_status');
    },
  },
];

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const list = (v: unknown): number[] | undefined => (typeof v === 'string' && v ? (JSON.parse(v) as number[]) : undefined);

export function readingRow(meterId: string, at: string, r: MeterReading): Record<string, unknown> {
  return {
    meter_id: meterId, at,
    power_w: r.powerW ?? null, energy_import_wh: r.energyImportWh ?? null, energy_export_wh: r.energyExportWh ?? null,
    voltage_v: r.voltageV ? JSON.stringify(r.voltageV) : null, current_a: r.currentA ? JSON.stringify(r.currentA) : null,
    frequency_hz: r.frequencyHz ?? null, power_factor: r.powerFactor ?? null,
  };
}

/** The newest stored sample of a meter, to show something before the first poll after a restart. */
export async function latestReading(db: Knex, meterId: string): Promise<{ at: string; reading: MeterReading } | null> {
  const row = await db('meters_readings').where({ meter_id: meterId }).orderBy('at', 'desc').first();
  if (!row) return null;
  const reading: MeterReading = {};
  const set = <K extends keyof MeterReading>(k: K, v: MeterReading[K] | null | undefined) => { if (v !== null && v !== undefined) reading[k] = v; };
  set('powerW', num(row.power_w));
  set('energyImportWh', num(row.energy_import_wh));
  set('energyExportWh', num(row.energy_export_wh));
  set('voltageV', list(row.voltage_v));
  set('currentA', list(row.current_a));
  set('frequencyHz', num(row.frequency_hz));
  set('powerFactor', num(row.power_factor));
  return { at: row.at as string, reading };
}

export interface StoredStatus { reachable: boolean; changedAt: string; lastError: string | null }

export async function loadStatus(db: Knex): Promise<Map<string, StoredStatus>> {
  const rows = await db('meters_status').select();
  return new Map(rows.map((r: Record<string, unknown>) => [r.meter_id as string, {
    reachable: Boolean(r.reachable), changedAt: r.changed_at as string, lastError: (r.last_error as string) ?? null,
  }]));
}

export async function saveStatus(db: Knex, meterId: string, s: StoredStatus): Promise<void> {
  await db('meters_status')
    .insert({ meter_id: meterId, reachable: s.reachable, changed_at: s.changedAt, last_error: s.lastError })
    .onConflict('meter_id')
    .merge();
}

const minuteOf = (iso: string) => `${iso.slice(0, 16)}:00.000Z`;
const hourOf = (iso: string) => `${iso.slice(0, 13)}:00:00.000Z`;
const CHUNK = 100;

async function insertChunks(trx: Knex.Transaction, table: string, rows: Array<Record<string, unknown>>): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    await trx(table).insert(rows.slice(i, i + CHUNK)).onConflict(['meter_id', 'at']).merge();
  }
}

/**
 * Moves samples older than a day into minute averages and minute rows older
 * than a month into hourly ones. Cut-offs are aligned to whole minutes/hours,
 * so a bucket is always complete when it is written. Works through at most
 * one hour of samples (one day of minutes) per transaction, so other writers
 * never wait long.
 */
export async function compact(db: Knex, nowMs: number): Promise<{ raw: number; minutes: number }> {
  const done = { raw: 0, minutes: 0 };
  const rawCutoff = minuteOf(new Date(nowMs - RAW_KEEP_MS).toISOString());
  for (;;) {
    const oldest = (await db('meters_readings').min({ at: 'at' }).first())?.at as string | null | undefined;
    if (!oldest || oldest >= rawCutoff) break;
    const upper = [rawCutoff, minuteOf(new Date(Date.parse(oldest) + 3_600_000).toISOString())].sort()[0]!;
    await db.transaction(async (trx) => {
      const groups = await trx('meters_readings')
        .where('at', '<', upper)
        .groupBy('meter_id', trx.raw('substr(at, 1, 16)'))
        .select('meter_id', trx.raw('substr(at, 1, 16) as bucket'))
        .select(trx.raw('count(power_w) as samples, avg(power_w) as power_w, min(power_w) as power_w_min, max(power_w) as power_w_max'))
        .select(trx.raw('max(energy_import_wh) as energy_import_wh, max(energy_export_wh) as energy_export_wh'));
      await insertChunks(trx, 'meters_minutes', groups.map((g: Record<string, unknown>) => ({
        meter_id: g.meter_id, at: `${g.bucket as string}:00.000Z`, samples: Number(g.samples),
        power_w: num(g.power_w), power_w_min: num(g.power_w_min), power_w_max: num(g.power_w_max),
        energy_import_wh: num(g.energy_import_wh), energy_export_wh: num(g.energy_export_wh),
      })));
      done.raw += await trx('meters_readings').where('at', '<', upper).delete();
    });
  }
  const minuteCutoff = hourOf(new Date(nowMs - MINUTES_KEEP_MS).toISOString());
  for (;;) {
    const oldest = (await db('meters_minutes').min({ at: 'at' }).first())?.at as string | null | undefined;
    if (!oldest || oldest >= minuteCutoff) break;
    const upper = [minuteCutoff, hourOf(new Date(Date.parse(oldest) + 24 * 3_600_000).toISOString())].sort()[0]!;
    await db.transaction(async (trx) => {
      const groups = await trx('meters_minutes')
        .where('at', '<', upper)
        .groupBy('meter_id', trx.raw('substr(at, 1, 13)'))
        .select('meter_id', trx.raw('substr(at, 1, 13) as bucket'))
        .select(trx.raw('sum(samples) as samples, sum(power_w * samples) as power_sum, min(power_w_min) as power_w_min, max(power_w_max) as power_w_max'))
        .select(trx.raw('max(energy_import_wh) as energy_import_wh, max(energy_export_wh) as energy_export_wh'));
      await insertChunks(trx, 'meters_hours', groups.map((g: Record<string, unknown>) => {
        const samples = Number(g.samples);
        return {
          meter_id: g.meter_id, at: `${g.bucket as string}:00:00.000Z`, samples,
          power_w: samples > 0 && g.power_sum !== null ? Number(g.power_sum) / samples : null,
          power_w_min: num(g.power_w_min), power_w_max: num(g.power_w_max),
          energy_import_wh: num(g.energy_import_wh), energy_export_wh: num(g.energy_export_wh),
        };
      }));
      done.minutes += await trx('meters_minutes').where('at', '<', upper).delete();
    });
  }
  return done;
}

interface Bucket { samples: number; powerSum: number; energy: number | null }

function add(buckets: Map<string, Bucket>, at: string, samples: number, powerAvg: number | null, energy: number | null): void {
  const b = buckets.get(at) ?? { samples: 0, powerSum: 0, energy: null };
  if (powerAvg !== null && samples > 0) {
    b.samples += samples;
    b.powerSum += powerAvg * samples;
  }
  if (energy !== null) b.energy = b.energy === null ? energy : Math.max(b.energy, energy);
  buckets.set(at, b);
}

/**
 * Power and import energy of one meter between from (inclusive) and to
 * (exclusive). minute and hour combine the stored averages with what is
 * still kept at a finer resolution, so the last day is never missing.
 */
export async function history(db: Knex, meterId: string, fromIso: string, toIso: string, resolution: Resolution): Promise<HistoryPoint[]> {
  const inRange = (q: Knex.QueryBuilder) => q.where({ meter_id: meterId }).where('at', '>=', fromIso).where('at', '<', toIso);
  if (resolution === 'raw') {
    // A day of 1 s samples is 86,400 rows; beyond that ask for minutes.
    const rows = await inRange(db('meters_readings')).orderBy('at').limit(RAW_LIMIT).select('at', 'power_w', 'energy_import_wh');
    return rows.map((r: Record<string, unknown>) => ({ at: r.at as string, powerW: num(r.power_w), energyImportWh: num(r.energy_import_wh) }));
  }
  const width = resolution === 'minute' ? 16 : 13;
  const label = resolution === 'minute' ? minuteOf : hourOf;
  const buckets = new Map<string, Bucket>();
  const rawGroups = await inRange(db('meters_readings'))
    .groupBy(db.raw(`substr(at, 1, ${width})`))
    .select(db.raw(`substr(at, 1, ${width}) as bucket, count(power_w) as samples, avg(power_w) as power_w, max(energy_import_wh) as energy_import_wh`));
  for (const g of rawGroups as Array<Record<string, unknown>>) {
    add(buckets, label(`${g.bucket as string}:00:00.000Z`), Number(g.samples), num(g.power_w), num(g.energy_import_wh));
  }
  const tables = resolution === 'minute' ? ['meters_minutes'] : ['meters_minutes', 'meters_hours'];
  for (const table of tables) {
    const rows = await inRange(db(table)).select('at', 'samples', 'power_w', 'energy_import_wh');
    for (const r of rows as Array<Record<string, unknown>>) {
      add(buckets, label(r.at as string), Number(r.samples), num(r.power_w), num(r.energy_import_wh));
    }
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([at, b]) => ({ at, powerW: b.samples > 0 ? Number((b.powerSum / b.samples).toPrecision(12)) : null, energyImportWh: b.energy }));
}
