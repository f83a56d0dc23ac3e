import type { Knex } from 'knex';
import type { AuthorizeAnswer, ChargePointStatus, MeterSample } from '../../events.js';
import { CAR_SIDE_LOCATIONS, ENERGY_REGISTER, Readings } from '../../readings.js';
import { chargerTime, type ChargerSession, type Handler, type OcppContext } from '../context.js';
import { storeMeterValues } from '../v16/meter-values.js';
import { toRows, type MeterValue } from '../v16/sampled-values.js';
import { decideToken, type IdToken, type IdTokenInfo } from './id-token.js';
import { as16, type MeterValue201 } from './meter-values.js';
import { reportConnector } from './status-notification.js';
import { earlierAnswer, neutralStopReason, noteGap, retireIfReused } from './transaction-seq.js';

export interface TransactionEventReq {
  eventType: 'Started' | 'Updated' | 'Ended'; timestamp: string; triggerReason: string; seqNo: number;
  offline?: boolean; reservationId?: number;
  transactionInfo: { transactionId: string; chargingState?: string; stoppedReason?: string; remoteStartId?: number };
  evse?: { id: number; connectorId?: number };
  idToken?: IdToken;
  meterValue?: MeterValue201[];
}
type Answer = { idTokenInfo?: IdTokenInfo };

/** A row of ocpp201_transactions: the charger's transactionId string and the core's transaction it maps to. */
interface Mapped {
  transaction_ref: string; transaction_id: number; evse_id: number;
  meter_start_known: number | boolean; session_started: number | boolean;
}

/** chargingState during a session as the neutral connector status (Idle says nothing new). */
const STATE: Record<string, ChargePointStatus> = {
  Charging: 'Charging', SuspendedEV: 'SuspendedEV', SuspendedEVSE: 'SuspendedEVSE', EVConnected: 'Preparing',
};

/** The car-side energy register totals of these readings, oldest first, in Wh. */
function registers(values: MeterValue[], received: string): Array<{ at: string; wh: number }> {
  return toRows(values, (ts) => chargerTime(ts, received))
    .filter((r) => r.measurand === ENERGY_REGISTER && !r.phase && CAR_SIDE_LOCATIONS.includes(r.location))
    .map((r) => ({ at: r.at, wh: r.value }))
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

interface Step {
  ctx: OcppContext; cp: ChargerSession; p: TransactionEventReq; ref: string; at: string; received: string; values: MeterValue[];
}

/** Stores the event's seqNo and answer (inside the write of its effects, so a resend finds both or neither). */
const recordEvent = (trx: Knex.Transaction, s: Step, answer: Answer) => trx('ocpp201_transaction_events').insert({
  charger_id: s.cp.id, transaction_ref: s.ref, seq_no: s.p.seqNo, event_type: s.p.eventType, trigger_reason: s.p.triggerReason,
  offline: s.p.offline ?? false, charger_time: s.at, received_at: s.received, answer: JSON.stringify(answer),
});

/**
 * OCPP 2.0.1 TransactionEvent as the same sessions, readings and events an
 * OCPP 1.6 charger produces: Started opens a row of `transactions` (the
 * charger's transactionId string maps to its integer id, per charger),
 * Updated adds readings, Ended closes it at the charger's timestamp. A
 * resent event (same transactionId and seqNo) gets its first answer and
 * changes nothing; events queued offline carry their own timestamps and are
 * handled in the order sent. A transactionId this charger never started is
 * recorded and touches no session, whoever's it is; one started again after
 * its session closed names a new session.
 */
export const transactionEvent: Handler<TransactionEventReq, Answer> = async (ctx, cp, p) => {
  const ref = p.transactionInfo.transactionId;
  // A charger sends in order: a Started after its session's Ended was answered cannot be a resend.
  if (p.eventType === 'Started') await retireIfReused(ctx, cp.id, ref);
  const again = await earlierAnswer(ctx, cp.id, ref, p.seqNo);
  if (again) return again as Answer;
  const received = ctx.clock.iso();
  await noteGap(ctx, cp.id, ref, p.seqNo, received);
  const s: Step = { ctx, cp, p, ref, received, at: chargerTime(p.timestamp, received), values: as16(p.meterValue ?? []) };
  const mapped = await ctx.db('ocpp201_transactions').where({ charger_id: cp.id, transaction_ref: ref }).first() as Mapped | undefined;
  if (mapped) return continueSession(s, mapped);
  if (p.eventType === 'Started') return startSession(s);
  return unknownTransaction(s);
};

async function startSession(s: Step): Promise<Answer> {
  const { ctx, cp, p } = s;
  const evseId = p.evse?.id ?? 1;
  const decided = p.idToken
    ? await decideToken(ctx, p.idToken, { chargerId: cp.id, connectorId: evseId, context: 'StartTransaction' })
    : null;
  const regs = registers(s.values, s.received);
  const meterStartWh = regs[0]?.wh ?? 0;
  const answer: Answer = decided ? { idTokenInfo: decided.idTokenInfo } : {};
  const idTag = p.idToken?.idToken ?? '';
  const { transactionId, samples } = await ctx.writer.write(async (trx) => {
    const [row] = await trx('transactions').insert({
      charger_id: cp.id, connector_id: evseId, id_tag: idTag, user_id: decided?.answer.userId ?? null,
      reservation_id: p.reservationId ?? null,
      // Not authorized yet (a session that starts at plug-in): Invalid until a token is presented.
      start_status: decided?.answer.status ?? 'Invalid',
      meter_start_wh: meterStartWh, started_at: s.at, received_at: s.received,
    }).returning('id');
    const id = typeof row === 'object' ? (row as { id: number }).id : (row as number);
    await trx('ocpp201_transactions').insert({
      charger_id: cp.id, transaction_ref: s.ref, transaction_id: id, evse_id: evseId, evse_connector_id: p.evse?.connectorId ?? null,
      meter_start_known: regs.length > 0, session_started: decided !== null,
    });
    await recordEvent(trx, s, answer);
    return { transactionId: id, samples: await storeMeterValues(ctx, trx, cp.id, evseId, id, s.values) };
  });
  ctx.openTransactions.set(`${cp.id}:${evseId}`, transactionId);
  if (decided) emitStarted(s, { transactionId, connectorId: evseId, idTag, startedAt: s.at, meterStartWh }, decided.answer);
  emitSamples(ctx, samples, decided !== null);
  await reportState(s, evseId);
  return answer;
}

interface SessionRef { transactionId: number; connectorId: number; idTag: string; startedAt: string; meterStartWh: number }

function emitStarted(s: Step, t: SessionRef, a: AuthorizeAnswer): void {
  const { userId = null, known: _known, ...idTagInfo } = a;
  s.ctx.bus.emit('session.started', {
    chargerId: s.cp.id, at: s.received, transactionId: t.transactionId, connectorId: t.connectorId, idTag: t.idTag, userId,
    meterStartWh: t.meterStartWh, startedAt: t.startedAt, reservationId: s.p.reservationId ?? null, idTagInfo,
  });
}

/** Readings of a session not started on the bus yet go out without its id: plugins know no such session. */
function emitSamples(ctx: OcppContext, samples: MeterSample[], started: boolean): void {
  for (const sample of samples) {
    if (started) ctx.bus.emit('meter.sampled', sample);
    else {
      const { transactionId: _t, ...rest } = sample;
      ctx.bus.emit('meter.sampled', rest);
    }
  }
}

/** chargingState as connector.status, stored like a StatusNotification (2.0.1 sends no status while it charges). */
async function reportState(s: Step, evseId: number): Promise<void> {
  const state = s.p.transactionInfo.chargingState;
  const status = state ? STATE[state] : undefined;
  if (!status || s.p.eventType === 'Ended') return;
  await reportConnector(s.ctx, s.cp, {
    evseId, evseConnectorId: s.p.evse?.connectorId ?? null, status, errorCode: 'NoError', info: null, vendorErrorCode: null, at: s.at,
  });
}

async function continueSession(s: Step, m: Mapped): Promise<Answer> {
  const { ctx, cp, p } = s;
  const txId = m.transaction_id;
  const tx = await ctx.db('transactions').where({ id: txId, charger_id: cp.id }).first() as Record<string, unknown> | undefined;
  if (!tx) return unknownTransaction(s);
  const evseId = m.evse_id;
  const wasStarted = Boolean(m.session_started);
  const ending = p.eventType === 'Ended' && !tx.stopped_at;
  // The first token of a session that began at plug-in authorizes it; a later one is an authorization to stop.
  let decided: Awaited<ReturnType<typeof decideToken>> | null = null;
  if (p.idToken) {
    const stopping = wasStarted && (p.eventType === 'Ended' || p.triggerReason === 'StopAuthorized');
    decided = await decideToken(ctx, p.idToken, stopping
      ? { chargerId: cp.id, connectorId: null, context: 'StopTransaction', transactionId: txId }
      : { chargerId: cp.id, connectorId: evseId, context: wasStarted ? 'Authorize' : 'StartTransaction' });
  }
  const authorizesStart = !wasStarted && decided !== null && !tx.stopped_at;
  const answer: Answer = decided ? { idTokenInfo: decided.idTokenInfo } : {};
  const regs = registers(s.values, s.received);
  let meterStartWh = Number(tx.meter_start_wh);
  if (!m.meter_start_known && regs.length) meterStartWh = regs[0]!.wh;
  const idTag = authorizesStart ? p.idToken!.idToken : tx.id_tag as string;

  let meterStopWh = meterStartWh;
  if (ending) {
    const last = regs[regs.length - 1]?.wh ?? (await new Readings(ctx.db).ofSession(txId, { measurands: [ENERGY_REGISTER], carSide: true, totalsOnly: true, latest: 1 }))[0]?.value;
    // A register below the start is a meter reset or a wrong unit; the session then counts as empty, never negative.
    meterStopWh = last !== undefined && last >= meterStartWh ? last : meterStartWh;
  }
  const reason = neutralStopReason(p.transactionInfo.stoppedReason);
  const samples = await ctx.writer.write(async (trx) => {
    const changes: Record<string, unknown> = {};
    if (meterStartWh !== Number(tx.meter_start_wh)) changes.meter_start_wh = meterStartWh;
    if (authorizesStart) Object.assign(changes, { id_tag: idTag, user_id: decided!.answer.userId ?? null, start_status: decided!.answer.status });
    if (ending) {
      Object.assign(changes, {
        meter_stop_wh: meterStopWh, stopped_at: s.at, stop_reason: reason, energy_wh: meterStopWh - meterStartWh,
        stop_id_tag: wasStarted && p.idToken ? p.idToken.idToken : null,
      });
    }
    if (Object.keys(changes).length) await trx('transactions').where({ id: txId, charger_id: cp.id }).update(changes);
    const mapChanges: Record<string, unknown> = {};
    if (!m.meter_start_known && regs.length) mapChanges.meter_start_known = true;
    if (authorizesStart || (ending && !wasStarted)) mapChanges.session_started = true;
    if (ending && p.transactionInfo.stoppedReason) mapChanges.stopped_reason = p.transactionInfo.stoppedReason;
    if (Object.keys(mapChanges).length) await trx('ocpp201_transactions').where({ charger_id: cp.id, transaction_ref: s.ref }).update(mapChanges);
    await recordEvent(trx, s, answer);
    return storeMeterValues(ctx, trx, cp.id, evseId, txId, s.values);
  });
  const session: SessionRef = { transactionId: txId, connectorId: evseId, idTag, startedAt: tx.started_at as string, meterStartWh };
  if (authorizesStart) emitStarted(s, session, decided!.answer);
  else if (ending && !wasStarted) {
    // Never authorized (plugged in and out): plugins still see the session open and close.
    emitStarted(s, session, { status: tx.start_status as AuthorizeAnswer['status'], userId: null });
  }
  emitSamples(ctx, samples, wasStarted || authorizesStart || ending);
  if (ending) {
    const key = `${cp.id}:${evseId}`;
    if (ctx.openTransactions.get(key) === txId) ctx.openTransactions.delete(key);
    ctx.bus.emit('session.stopped', {
      chargerId: cp.id, at: s.received, transactionId: txId, connectorId: evseId, idTag,
      userId: authorizesStart ? decided!.answer.userId ?? null : (tx.user_id as number | null) ?? null,
      meterStartWh, meterStopWh, energyWh: meterStopWh - meterStartWh, startedAt: tx.started_at as string, stoppedAt: s.at, reason,
    });
  } else await reportState(s, evseId);
  return answer;
}

/** An Updated or Ended for a transactionId this charger never started: recorded; its readings kept without a session. */
async function unknownTransaction(s: Step): Promise<Answer> {
  const { ctx, cp, p } = s;
  ctx.log.warn(`TransactionEvent ${p.eventType} from ${cp.id} for transaction ${JSON.stringify(s.ref)}, which it never started; no session changed`);
  const decided = p.idToken ? await decideToken(ctx, p.idToken, { chargerId: cp.id, connectorId: null, context: 'Authorize' }) : null;
  const answer: Answer = decided ? { idTokenInfo: decided.idTokenInfo } : {};
  const evseId = p.evse?.id ?? 0;
  const samples = await ctx.writer.write(async (trx) => {
    await trx('charger_messages').insert({
      charger_id: cp.id, action: 'TransactionEvent.unknown', charger_time: s.at, received_at: s.received,
      payload: JSON.stringify({ eventType: p.eventType, transactionId: s.ref, seqNo: p.seqNo, evseId }),
    });
    await recordEvent(trx, s, answer);
    return storeMeterValues(ctx, trx, cp.id, evseId, null, s.values);
  });
  for (const sample of samples) ctx.bus.emit('meter.sampled', sample);
  return answer;
}
