import type { IdTagInfo } from '../../events.js';
import { chargerTime, type Handler } from '../context.js';
import type { MeterValue } from './sampled-values.js';
import { storeMeterValues } from './meter-values.js';

export interface StopTransactionReq {
  transactionId: number; meterStop: number; timestamp: string; idTag?: string; reason?: string;
  transactionData?: MeterValue[];
}

/**
 * Closes a transaction at the charger's own timestamp, so a stop queued
 * while offline is stored when it happened. A resent stop changes nothing.
 */
export const stopTransaction: Handler<StopTransactionReq, { idTagInfo?: IdTagInfo }> = async (ctx, cp, p) => {
  const received = ctx.clock.iso();
  const stoppedAt = chargerTime(p.timestamp, received);
  let idTagInfo: IdTagInfo | undefined;
  if (p.idTag) {
    const { userId: _u, known: _k, ...info } = await ctx.authorize({
      chargerId: cp.id, connectorId: null, idTag: p.idTag, context: 'StopTransaction', transactionId: p.transactionId,
    });
    idTagInfo = info;
  }
  const tx = await ctx.db('transactions').where({ id: p.transactionId, charger_id: cp.id }).first();
  if (!tx) {
    ctx.log.warn(`StopTransaction for unknown transaction ${p.transactionId} from ${cp.id}`);
    await ctx.writer.write(async (trx) => {
      await trx('charger_messages').insert({
        charger_id: cp.id, action: 'StopTransaction.unknown', payload: JSON.stringify(p), charger_time: stoppedAt, received_at: received,
      });
    });
    return idTagInfo ? { idTagInfo } : {};
  }
  if (tx.stopped_at) return idTagInfo ? { idTagInfo } : {};

  const energyWh = Math.max(0, p.meterStop - Number(tx.meter_start_wh));
  const samples = await ctx.writer.write(async (trx) => {
    const out = p.transactionData?.length
      ? await storeMeterValues(ctx, trx, cp.id, tx.connector_id as number, p.transactionId, p.transactionData)
      : [];
    await trx('transactions').where({ id: p.transactionId }).update({
      meter_stop_wh: p.meterStop, stopped_at: stoppedAt, stop_reason: p.reason ?? 'Local',
      stop_id_tag: p.idTag ?? null, energy_wh: energyWh,
    });
    return out;
  });
  const key = `${cp.id}:${tx.connector_id}`;
  if (ctx.openTransactions.get(key) === p.transactionId) ctx.openTransactions.delete(key);
  for (const s of samples) ctx.bus.emit('meter.sampled', s);
  ctx.bus.emit('session.stopped', {
    chargerId: cp.id, at: received, transactionId: p.transactionId, connectorId: tx.connector_id as number,
    idTag: tx.id_tag as string, userId: (tx.user_id as number | null) ?? null,
    meterStartWh: Number(tx.meter_start_wh), meterStopWh: p.meterStop, energyWh,
    startedAt: tx.started_at as string, stoppedAt, reason: p.reason ?? 'Local',
  });
  return idTagInfo ? { idTagInfo } : {};
};
