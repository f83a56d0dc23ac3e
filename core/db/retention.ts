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
