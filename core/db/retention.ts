import type { Knex } from 'knex';
import type { Clock } from '../clock.js';
import type { Logger } from '../types.js';
import type { GroupWriter } from './writer.js';

// Small batches, each its own group commit, so pruning a year of readings never holds the event loop for long.
const BATCH = 5000;

/**
 * Deletes meter readings older than `keepMs`. Transactions, their energy and
 * stored costs stay; only the readings behind charts and checks go.
 * Returns how many rows were deleted.
 */
export async function pruneMeterValues(db: Knex, writer: GroupWriter, clock: Clock, keepMs: number, log: Logger): Promise<number> {
  const before = new Date(clock.nowMs() - keepMs).toISOString();
  let total = 0;
  for (;;) {
    const deleted = await writer.write((trx) => trx('meter_values')
      .whereIn('id', db('meter_values').where('at', '<', before).orderBy('at').limit(BATCH).select('id'))
      .delete());
    total += deleted;
    if (deleted < BATCH) break;
    await new Promise((r) => setImmediate(r));
  }
  if (total) log.info(`deleted ${total} meter readings older than ${before}`);
  return total;
}

const DAY_MS = 86_400_000;
const MARK = 'meter_values.downsampled_until';

interface ReadingKey { id: number; transaction_id: number | null; charger_id: string; connector_id: number; at: string; measurand: string; phase: string; location: string }

/**
 * Thins readings older than `afterMs` to the last one per `everyMs` (aligned to UTC, so 15 min buckets
 * tile every day) of each session, measurand and phase, plus the first of each per day.
 * An energy register is cumulative: its value at every bucket's end is kept, so energy per
 * bucket, hour, day or session computed from readings stays exact; only the detail inside a bucket goes.
 * Works a day at a time from where it stopped (kept in storage_marks) and returns how many rows it deleted.
 */
export async function downsampleMeterValues(db: Knex, writer: GroupWriter, clock: Clock, afterMs: number, everyMs: number, log: Logger): Promise<number> {
  const cutoffDay = Math.floor((clock.nowMs() - afterMs) / DAY_MS) * DAY_MS;
  const mark = await db('storage_marks').where({ name: MARK }).first('value') as { value: string } | undefined;
  let from = mark ? Date.parse(mark.value) : NaN;
  if (!Number.isFinite(from)) {
    const oldest = await db('meter_values').min({ at: 'at' }).first() as { at: string | null } | undefined;
    if (!oldest?.at) return 0;
    from = Math.floor(Date.parse(oldest.at) / DAY_MS) * DAY_MS;
  }
  let total = 0;
  for (let day = from; day < cutoffDay; day += DAY_MS) {
    const rows = await db<ReadingKey>('meter_values')
      .where('at', '>=', new Date(day).toISOString()).andWhere('at', '<', new Date(day + DAY_MS).toISOString())
      .orderBy('at').orderBy('id')
      .select('id', 'transaction_id', 'charger_id', 'connector_id', 'at', 'measurand', 'phase', 'location');
    const first = new Set<string>();
    const lastInBucket = new Map<string, number>();
    const keep = new Set<number>();
    for (const r of rows) {
      const series = `${r.charger_id}|${r.connector_id}|${r.transaction_id ?? ''}|${r.measurand}|${r.phase}|${r.location}`;
      if (!first.has(series)) { first.add(series); keep.add(r.id); }
      // Rows come in time order: the last one seen in a bucket is its last.
      lastInBucket.set(`${series}|${Math.floor(Date.parse(r.at) / everyMs)}`, r.id);
    }
    for (const id of lastInBucket.values()) keep.add(id);
    const drop = rows.filter((r) => !keep.has(r.id)).map((r) => r.id);
    for (let i = 0; i < drop.length; i += BATCH) {
      const ids = drop.slice(i, i + BATCH);
      await writer.write((trx) => trx('meter_values').whereIn('id', ids).delete());
      await new Promise((r) => setImmediate(r));
    }
    total += drop.length;
    const until = new Date(day + DAY_MS).toISOString();
    await writer.write((trx) => trx('storage_marks').insert({ name: MARK, value: until }).onConflict('name').merge());
  }
  if (total) log.info(`thinned ${total} meter readings older than ${new Date(cutoffDay).toISOString()} to one per ${Math.round(everyMs / 60_000)} min`);
  return total;
}
