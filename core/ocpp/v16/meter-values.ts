import type { Knex } from 'knex';
import { chargerTime, type ChargerSession, type Handler, type OcppContext } from '../context.js';
import { toRows, toSamples, type MeterValue } from './sampled-values.js';

export interface MeterValuesReq { connectorId: number; transactionId?: number; meterValue: MeterValue[] }

export const RESEND_KEY = ['charger_id', 'connector_id', 'at', 'measurand', 'phase', 'location'];

/** Normalised readings as rows of meter_values; a resent reading is ignored on insert by RESEND_KEY. */
export function meterRows(ctx: OcppContext, chargerId: string, connectorId: number, transactionId: number | null, values: MeterValue[]) {
  const received = ctx.clock.iso();
  const rows = toRows(values, (ts) => chargerTime(ts, received), ctx.sampledUnits?.get(chargerId));
  return {
    // Spelled out rather than spread: this runs for every sampled value, and a literal is several times cheaper.
    records: rows.map((r) => ({
      charger_id: chargerId, connector_id: connectorId, transaction_id: transactionId, at: r.at, measurand: r.measurand,
      phase: r.phase, location: r.location, context: r.context, unit: r.unit, value: r.value,
    })),
    samples: toSamples(rows, { chargerId, connectorId, ...(transactionId ? { transactionId } : {}) }),
  };
}

/** Inserts readings inside a caller's transaction (StopTransaction's transactionData). */
export async function storeMeterValues(
  ctx: OcppContext, trx: Knex.Transaction, chargerId: string, connectorId: number,
  transactionId: number | null, values: MeterValue[],
): Promise<ReturnType<typeof toSamples>> {
  const { records, samples } = meterRows(ctx, chargerId, connectorId, transactionId, values);
  for (let i = 0; i < records.length; i += 80) {
    await trx('meter_values').insert(records.slice(i, i + 80)).onConflict(RESEND_KEY).ignore();
  }
  return samples;
}

/**
 * The transaction a reading belongs to: the one it names if that is this charger's on this connector,
 * else none. A charger naming another charger's session must not move that session's bill.
 */
async function ownTransaction(ctx: OcppContext, cp: ChargerSession, connectorId: number, named: number | undefined): Promise<number | null> {
  const open = ctx.openTransactions.get(`${cp.id}:${connectorId}`);
  if (named === undefined || named === open) return named ?? open ?? null;
  let own = cp.transactionOwnership.get(named);
  if (own === undefined) {
    own = Boolean(await ctx.db('transactions').where({ id: named, charger_id: cp.id, connector_id: connectorId }).first('id'));
    if (cp.transactionOwnership.size >= 64) cp.transactionOwnership.clear();
    cp.transactionOwnership.set(named, own);
    if (!own) {
      ctx.log.warn(`MeterValues from ${cp.id} connector ${connectorId} name transaction ${named}, which is not its own; stored without it`);
      const at = ctx.clock.iso();
      await ctx.writer.write(async (trx) => {
        await trx('charger_messages').insert({
          charger_id: cp.id, action: 'MeterValues.foreignTransaction', payload: JSON.stringify({ connectorId, transactionId: named }), received_at: at,
        });
      });
    }
  }
  return own ? named : null;
}

export const meterValues: Handler<MeterValuesReq, Record<string, never>> = async (ctx, cp, p) => {
  const txId = await ownTransaction(ctx, cp, p.connectorId, p.transactionId);
  const { records, samples } = meterRows(ctx, cp.id, p.connectorId, txId, p.meterValue);
  await ctx.writer.insert('meter_values', records, { ignoreOn: RESEND_KEY, patient: true });
  for (const s of samples) ctx.bus.emit('meter.sampled', s);
  return {};
};
