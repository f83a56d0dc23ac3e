import type { IdTagInfo } from '../../events.js';
import { chargerTime, type Handler } from '../context.js';

export interface StartTransactionReq {
  connectorId: number; idTag: string; meterStart: number; timestamp: string; reservationId?: number;
}

/**
 * Opens a transaction. A StartTransaction resent after a reconnect (same
 * charger, connector, idTag and timestamp) gets the id of its first copy.
 * A refused idTag still gets a transaction id, as OCPP requires; the
 * charger then stops it.
 */
export const startTransaction: Handler<StartTransactionReq, { transactionId: number; idTagInfo: IdTagInfo }> = async (ctx, cp, p) => {
  const received = ctx.clock.iso();
  const startedAt = chargerTime(p.timestamp, received);
  const existing = await ctx.db('transactions')
    .where({ charger_id: cp.id, connector_id: p.connectorId, started_at: startedAt, id_tag: p.idTag })
    .first();
  if (existing) return { transactionId: existing.id as number, idTagInfo: { status: existing.start_status } };

  const answer = await ctx.authorize({ chargerId: cp.id, connectorId: p.connectorId, idTag: p.idTag, context: 'StartTransaction' });
  const { userId = null, ...idTagInfo } = answer;
  const transactionId = await ctx.writer.write(async (trx) => {
    const [row] = await trx('transactions')
      .insert({
        charger_id: cp.id, connector_id: p.connectorId, id_tag: p.idTag, user_id: userId,
        reservation_id: p.reservationId ?? null, start_status: idTagInfo.status,
        meter_start_wh: p.meterStart, started_at: startedAt, received_at: received,
      })
      .returning('id');
    return typeof row === 'object' ? (row as { id: number }).id : (row as number);
  });
  ctx.openTransactions.set(`${cp.id}:${p.connectorId}`, transactionId);
  ctx.bus.emit('session.started', {
    chargerId: cp.id, at: received, transactionId, connectorId: p.connectorId, idTag: p.idTag, userId,
    meterStartWh: p.meterStart, startedAt, reservationId: p.reservationId ?? null, idTagInfo,
  });
  return { transactionId, idTagInfo };
};
