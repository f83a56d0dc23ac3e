import type { Knex } from 'knex';
import type { TransactionForCost } from './events.js';

/** A row of the core's `transactions` table as the database returns it. */
export interface TransactionRow {
  id: number;
  charger_id: string;
  connector_id: number;
  id_tag: string;
  user_id: number | null;
  reservation_id: number | null;
  start_status: string;
  meter_start_wh: number;
  started_at: string;
  meter_stop_wh: number | null;
  stopped_at: string | null;
  stop_reason: string | null;
  stop_id_tag: string | null;
  energy_wh: number | null;
  received_at: string;
}

/** A charging session (OCPP transaction), as the core hands it to plugins. */
export interface Transaction extends TransactionForCost {
  reservationId: number | null;
  /** The StartTransaction answer: Accepted, or why the card was refused. */
  startStatus: string;
  energyWh: number | null;
  stopReason: string | null;
  stopIdTag: string | null;
  /** When the appliance stored the StartTransaction (startedAt is the charger's clock). */
  receivedAt: string;
}

export function toTransaction(r: TransactionRow): Transaction {
  return {
    id: Number(r.id), chargerId: r.charger_id, connectorId: Number(r.connector_id), idTag: r.id_tag, userId: r.user_id == null ? null : Number(r.user_id),
    reservationId: r.reservation_id ?? null, startStatus: r.start_status,
    startedAt: r.started_at, stoppedAt: r.stopped_at ?? null,
    meterStartWh: Number(r.meter_start_wh), meterStopWh: r.meter_stop_wh == null ? null : Number(r.meter_stop_wh),
    energyWh: r.energy_wh == null ? null : Number(r.energy_wh), stopReason: r.stop_reason ?? null,
    stopIdTag: r.stop_id_tag ?? null, receivedAt: r.received_at,
  };
}

/** A session as GET /api/transactions shows it (spec section 5). */
export type TransactionApiView = TransactionForCost & { energyWh: number | null; stopReason: string | null; startStatus: string };

export function transactionApiView(t: Transaction): TransactionApiView {
  return {
    id: t.id, chargerId: t.chargerId, connectorId: t.connectorId, idTag: t.idTag, userId: t.userId,
    startedAt: t.startedAt, stoppedAt: t.stoppedAt, meterStartWh: t.meterStartWh, meterStopWh: t.meterStopWh,
    energyWh: t.energyWh, stopReason: t.stopReason, startStatus: t.startStatus,
  };
}

/**
 * Sessions for plugins: each query names what it is for, so the table can
 * change (OCPP 2.0.1 EVSEs, PostgreSQL) behind it. Each keeps the index it
 * was written for; the comments name them.
 */
export class Transactions {
  constructor(private readonly db: Knex) {}

  #table() {
    return this.db<TransactionRow>('transactions');
  }

  async get(id: number): Promise<Transaction | null> {
    const row = await this.#table().where({ id }).first();
    return row ? toTransaction(row) : null;
  }

  /** Every session not stopped yet (as after a restart). */
  async open(): Promise<Transaction[]> {
    return (await this.#table().whereNull('stopped_at')).map(toTransaction);
  }

  /** Accepted sessions of an account still running, newest first (index user_id, started_at). */
  async openOfUser(userId: number): Promise<Transaction[]> {
    return (await this.#table().where({ user_id: userId, start_status: 'Accepted' }).whereNull('stopped_at').orderBy('started_at', 'desc'))
      .map(toTransaction);
  }

  /** Accepted sessions running at a charger (index charger_id, stopped_at). */
  async openAtCharger(chargerId: string): Promise<Transaction[]> {
    return (await this.#table().where({ charger_id: chargerId, start_status: 'Accepted' }).whereNull('stopped_at')).map(toTransaction);
  }

  /** The newest session not stopped yet on a connector, whatever its start status; null when none. */
  async openOn(chargerId: string, connectorId: number): Promise<Transaction | null> {
    const row = await this.#table().where({ charger_id: chargerId, connector_id: connectorId }).whereNull('stopped_at')
      .orderBy('started_at', 'desc').first();
    return row ? toTransaction(row) : null;
  }

  /** The connector's newest session, running or stopped (index transactions_resend); null when none. */
  async latestOn(chargerId: string, connectorId: number): Promise<Transaction | null> {
    const row = await this.#table().where({ charger_id: chargerId, connector_id: connectorId }).orderBy('started_at', 'desc').first();
    return row ? toTransaction(row) : null;
  }

  /**
   * Whether a card (any case) has an accepted session running, at one charger
   * or anywhere but one; asked while a charger waits for an Authorize answer.
   */
  async cardIsCharging(idTag: string, where: { at: string } | { notAt: string }): Promise<boolean> {
    const q = this.#table().whereNull('stopped_at').where({ start_status: 'Accepted' }).whereRaw('lower(id_tag) = ?', [idTag.toLowerCase()]);
    if ('at' in where) q.where({ charger_id: where.at });
    else q.whereNot({ charger_id: where.notAt });
    return Boolean(await q.first('id'));
  }

  /** Accepted sessions that started in [from, to), oldest first, of one account or everyone's (index transactions_started_at). */
  async acceptedStartedBetween(from: string, to: string, userId?: number): Promise<Transaction[]> {
    const q = this.#table().where('started_at', '>=', from).where('started_at', '<', to).where({ start_status: 'Accepted' });
    if (userId !== undefined) q.where({ user_id: userId });
    return (await q.orderBy('started_at').orderBy('id')).map(toTransaction);
  }
}
