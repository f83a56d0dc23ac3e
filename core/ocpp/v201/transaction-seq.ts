import { printable } from '../limits.js';
import type { OcppContext } from '../context.js';

/** The answer a TransactionEvent got, when this charger already sent one with this transactionId and seqNo. */
export async function earlierAnswer(ctx: OcppContext, chargerId: string, ref: string, seqNo: number): Promise<Record<string, unknown> | null> {
  const row = await ctx.db('ocpp201_transaction_events').where({ charger_id: chargerId, transaction_ref: ref, seq_no: seqNo }).first('answer');
  return row ? JSON.parse(row.answer as string) as Record<string, unknown> : null;
}

/**
 * Records a missing seqNo. Chargers number TransactionEvents per station or per
 * transaction; a gap counts only when this seqNo skips past both the station's
 * last one and the transaction's, so neither way of numbering raises false gaps.
 */
export async function noteGap(ctx: OcppContext, chargerId: string, ref: string, seqNo: number, received: string): Promise<void> {
  const last = await ctx.db('ocpp201_transaction_events').where({ charger_id: chargerId }).orderBy('id', 'desc').first('seq_no');
  if (!last) return;
  const lastStation = Number(last.seq_no);
  const tx = await ctx.db('ocpp201_transaction_events').where({ charger_id: chargerId, transaction_ref: ref }).max({ n: 'seq_no' }).first() as { n?: number | null } | undefined;
  const lastTx = tx?.n == null ? null : Number(tx.n);
  if (seqNo <= lastStation + 1 || (lastTx !== null && seqNo <= lastTx + 1)) return;
  const expected = lastTx !== null ? lastTx + 1 : lastStation + 1;
  ctx.log.warn(`TransactionEvent from ${chargerId} for transaction ${printable(ref, 36)} has seqNo ${seqNo}, expected ${expected}: ${seqNo - expected} event(s) missing`);
  await ctx.writer.write(async (trx) => {
    await trx('charger_messages').insert({
      charger_id: chargerId, action: 'TransactionEvent.seqGap', payload: JSON.stringify({ transactionId: ref, seqNo, expected }), received_at: received,
    });
  });
}

/**
 * The neutral stop reason: OCPP 1.6 words where 2.0.1 has the same reason (ImmediateReset is 1.6's
 * HardReset), the 2.0.1 word where 1.6 has none (EnergyLimitReached, SOCLimitReached…); none is Local.
 */
export function neutralStopReason(stoppedReason: string | undefined): string {
  if (!stoppedReason) return 'Local';
  return stoppedReason === 'ImmediateReset' ? 'HardReset' : stoppedReason;
}

/**
 * A Started naming a transactionId whose session is closed is a new session (a charger that numbers its
 * transactions again after a reset): the old mapping and its seqNos are kept under "<id>~<session>", so the
 * new one neither finds the old answers nor adds readings to a session already billed.
 */
export async function retireIfReused(ctx: OcppContext, chargerId: string, ref: string): Promise<void> {
  const old = await ctx.db('ocpp201_transactions as m').join('transactions as t', 't.id', 'm.transaction_id')
    .where({ 'm.charger_id': chargerId, 'm.transaction_ref': ref }).whereNotNull('t.stopped_at').first('m.transaction_id') as { transaction_id: number } | undefined;
  if (!old) return;
  const kept = `${ref}~${old.transaction_id}`;
  ctx.log.info(`charger ${chargerId} started transaction ${printable(ref, 36)} again after session ${old.transaction_id} under that id closed; a new session`);
  await ctx.writer.write(async (trx) => {
    await trx('ocpp201_transactions').where({ charger_id: chargerId, transaction_ref: ref }).update({ transaction_ref: kept });
    await trx('ocpp201_transaction_events').where({ charger_id: chargerId, transaction_ref: ref }).update({ transaction_ref: kept });
  });
}
