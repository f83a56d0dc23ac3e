import type { Knex } from 'knex';
import { chargerTime, type Handler, type OcppContext } from '../context.js';
import { toRows, toSamples, type MeterValue } from './sampled-values.js';

export interface MeterValuesReq { connectorId: number; transactionId?: number; meterValue: MeterValue[] }

/** Inserts normalised readings; a resent reading (same charger, connector, time, measurand, phase) is ignored. */
export async function storeMeterValues(
  ctx: OcppContext, trx: Knex.Transaction, chargerId: string, connectorId: number,
  transactionId: number | null, values: MeterValue[],
): Promise<ReturnType<typeof toSamples>> {
  const received = ctx.clock.iso();
  const rows = toRows(values, (ts) => chargerTime(ts, received));
  if (rows.length) {
    const records = rows.map((r) => ({ ...r, charger_id: chargerId, connector_id: connectorId, transaction_id: transactionId }));
    // SQLite allows 999 bound variables per statement in old builds; 11 columns → 80 rows a statement.
    for (let i = 0; i < records.length; i += 80) {
      await trx('meter_values').insert(records.slice(i, i + 80))
        .onConflict(['charger_id', 'connector_id', 'at', 'measurand', 'phase', 'location']).ignore();
    }
  }
  return toSamples(rows, { chargerId, connectorId, ...(transactionId ? { transactionId } : {}) });
}

export const meterValues: Handler<MeterValuesReq, Record<string, never>> = async (ctx, cp, p) => {
  const txId = p.transactionId ?? ctx.openTransactions.get(`${cp.id}:${p.connectorId}`) ?? null;
  const samples = await ctx.writer.write(async (trx) => {
    const out = await storeMeterValues(ctx, trx, cp.id, p.connectorId, txId, p.meterValue);
    return out;
  });
  for (const s of samples) ctx.bus.emit('meter.sampled', s);
  return {};
};
