import type { EventMap, IdTagInfo } from '../../events.js';
import { ENERGY_REGISTER, Readings } from '../../readings.js';
import { chargerTime, type Handler, type OcppContext } from '../context.js';

export interface StartTransactionReq {
  connectorId: number; idTag: string; meterStart: number; timestamp: string; reservationId?: number;
}

/**
 * Opens a transaction. A StartTransaction resent after a reconnect (same
 * charger, connector, idTag and timestamp) gets the id of its first copy.
 * A refused idTag still gets a transaction id, as OCPP requires; the
 * charger then stops it. A session still open on the same connector is one
 * the charger forgot (a power cut, a reset): it is closed as superseded.
 */
export const startTransaction: Handler<StartTransactionReq, { transactionId: number; idTagInfo: IdTagInfo }> = async (ctx, cp, p) => {
  const received = ctx.clock.iso();
  const startedAt = chargerTime(p.timestamp, received);
  const existing = await ctx.db('transactions')
    .where({ charger_id: cp.id, connector_id: p.connectorId, started_at: startedAt, id_tag: p.idTag })
    .first();
  if (existing) return { transactionId: existing.id as number, idTagInfo: { status: existing.start_status } };

  const answer = await ctx.authorize({ chargerId: cp.id, connectorId: p.connectorId, idTag: p.idTag, context: 'StartTransaction' });
  const { userId = null, known: _known, ...idTagInfo } = answer;
  const forgotten = await forgottenSessions(ctx, cp.id, p.connectorId, startedAt);
  const { transactionId, closed } = await ctx.writer.write(async (trx) => {
    const closedNow: Forgotten[] = [];
    for (const old of forgotten) {
      // Still open (not stopped meanwhile by a late StopTransaction): the where clause makes the close happen once.
      const changed = await trx('transactions').where({ id: old.transactionId }).whereNull('stopped_at').update({
        meter_stop_wh: old.meterStopWh, stopped_at: received, stop_reason: SUPERSEDED, energy_wh: old.energyWh,
      });
      if (!changed) continue;
      closedNow.push(old);
      const detail = { transactionId: old.transactionId, connectorId: p.connectorId, meterStopWh: old.meterStopWh, lastReadingAt: old.lastReadingAt, newStartedAt: startedAt, idTag: p.idTag };
      await trx('charger_messages').insert({ charger_id: cp.id, action: 'StartTransaction.superseded', payload: JSON.stringify(detail), charger_time: startedAt, received_at: received });
      await trx('audit').insert({ at: received, actor: `charger:${cp.id}`, action: 'session.superseded', target: cp.id, detail: JSON.stringify(detail) });
    }
    const [row] = await trx('transactions')
      .insert({
        charger_id: cp.id, connector_id: p.connectorId, id_tag: p.idTag, user_id: userId,
        reservation_id: p.reservationId ?? null, start_status: idTagInfo.status,
        meter_start_wh: p.meterStart, started_at: startedAt, received_at: received,
      })
      .returning('id');
    return { transactionId: typeof row === 'object' ? (row as { id: number }).id : (row as number), closed: closedNow };
  });
  ctx.openTransactions.set(`${cp.id}:${p.connectorId}`, transactionId);
  for (const old of closed) {
    ctx.log.warn(`charger ${cp.id} started a new session on connector ${p.connectorId} while session ${old.transactionId} was open there; closed it as superseded at ${old.meterStopWh} Wh`);
    ctx.bus.emit('session.stopped', { ...old.stopped, at: received, stoppedAt: received });
    ctx.bus.emit('session.superseded', {
      chargerId: cp.id, at: received, transactionId: old.transactionId, connectorId: p.connectorId, byTransactionId: transactionId,
      meterStopWh: old.meterStopWh, lastReadingAt: old.lastReadingAt,
    });
  }
  ctx.bus.emit('session.started', {
    chargerId: cp.id, at: received, transactionId, connectorId: p.connectorId, idTag: p.idTag, userId,
    meterStartWh: p.meterStart, startedAt, reservationId: p.reservationId ?? null, idTagInfo,
  });
  return { transactionId, idTagInfo };
};

/** stop_reason of a session closed because its charger started another on the same connector. */
export const SUPERSEDED = 'Superseded';

interface Forgotten {
  transactionId: number;
  meterStopWh: number;
  energyWh: number;
  lastReadingAt: string | null;
  stopped: Omit<EventMap['session.stopped'], 'at' | 'stoppedAt'>;
}

/** Sessions still open on this connector that began before the new one, each with its last known energy reading. */
async function forgottenSessions(ctx: OcppContext, chargerId: string, connectorId: number, startedAt: string): Promise<Forgotten[]> {
  const open = await ctx.db('transactions').where({ charger_id: chargerId, connector_id: connectorId }).whereNull('stopped_at')
    .where('started_at', '<=', startedAt).orderBy('id') as Array<Record<string, unknown>>;
  if (!open.length) return [];
  const readings = new Readings(ctx.db);
  const out: Forgotten[] = [];
  for (const t of open) {
    const id = t.id as number;
    const start = Number(t.meter_start_wh);
    const [last] = await readings.ofSession(id, { measurands: [ENERGY_REGISTER], carSide: true, totalsOnly: true, latest: 1 });
    // A register below the start is a meter reset or a wrong unit; the session then counts as empty, never negative.
    const meterStopWh = last && last.value >= start ? last.value : start;
    out.push({
      transactionId: id, meterStopWh, energyWh: meterStopWh - start, lastReadingAt: last?.at ?? null,
      stopped: {
        chargerId, transactionId: id, connectorId, idTag: t.id_tag as string, userId: (t.user_id as number | null) ?? null,
        meterStartWh: start, meterStopWh, energyWh: meterStopWh - start, startedAt: t.started_at as string, reason: SUPERSEDED,
      },
    });
  }
  return out;
}
