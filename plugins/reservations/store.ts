import type { Knex } from 'knex';
import type { Clock } from '../../core/clock.js';
import { countRows } from '../../core/http/paging.js';

export type ReservationState = 'active' | 'used' | 'expired' | 'cancelled';
export const RESERVATION_STATES: ReservationState[] = ['active', 'used', 'expired', 'cancelled'];

/** A reservation as the API shows it (spec section 5, plus what the pages need). */
export interface Reservation {
  /** Also the OCPP reservationId. */
  id: number;
  chargerId: string;
  /** 0 = any connector of the charger. */
  connectorId: number;
  idTag: string;
  userId: number | null;
  expiresAt: string;
  state: ReservationState;
  /** Cards in this group may use the reservation too. */
  parentIdTag: string | null;
  /** 'charger': the charger holds it (it accepted the reservation); 'local': the appliance refuses other cards. */
  enforcement: 'charger' | 'local';
  createdAt: string;
  createdBy: string;
  /** When it was used, expired or cancelled. */
  endedAt: string | null;
  /** The session that used it. */
  transactionId: number | null;
  /** Expired without being used. */
  noShow: boolean;
  /** Why the appliance ended it itself, e.g. the charger refused it again after a restart; null otherwise. */
  endReason: string | null;
}

interface Row {
  id: number; charger_id: string; connector_id: number; id_tag: string; parent_id_tag: string | null; user_id: number | null;
  state: ReservationState; enforcement: 'charger' | 'local'; created_at: string; expires_at: string; ended_at: string | null;
  created_by: string; cancelled_by: string | null; transaction_id: number | null; end_reason: string | null;
}

const view = (r: Row): Reservation => ({
  id: r.id, chargerId: r.charger_id, connectorId: r.connector_id, idTag: r.id_tag, userId: r.user_id ?? null,
  expiresAt: r.expires_at, state: r.state, parentIdTag: r.parent_id_tag ?? null, enforcement: r.enforcement,
  createdAt: r.created_at, createdBy: r.created_by, endedAt: r.ended_at ?? null, transactionId: r.transaction_id ?? null,
  noShow: r.state === 'expired', endReason: r.end_reason ?? null,
});

export interface ReservationFilter {
  userId?: number;
  chargerId?: string;
  state?: ReservationState;
  limit?: number;
  offset?: number;
}

export interface NewReservation {
  chargerId: string; connectorId: number; idTag: string; parentIdTag: string | null; userId: number | null;
  expiresAt: string; enforcement: 'charger' | 'local'; createdBy: string;
}

/** Stored reservations. A reservation leaves `active` once, for used, expired or cancelled. */
export class ReservationStore {
  readonly #db: Knex;
  readonly #clock: Clock;

  constructor(db: Knex, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  async get(id: number): Promise<Reservation | null> {
    const row = await this.#db<Row>('reservations_reservations').where({ id }).first();
    return row ? view(row) : null;
  }

  async list(f: ReservationFilter = {}): Promise<Reservation[]> {
    const q = this.#filtered(f).orderBy('id', 'desc').limit(f.limit ?? 500).offset(f.offset ?? 0);
    return (await q).map(view);
  }

  /** How many reservations the filter matches, all pages together. */
  count(f: ReservationFilter): Promise<number> {
    return countRows(this.#filtered(f));
  }

  #filtered(f: ReservationFilter): Knex.QueryBuilder {
    const q = this.#db<Row>('reservations_reservations');
    if (f.userId !== undefined) q.where({ user_id: f.userId });
    if (f.chargerId) q.where({ charger_id: f.chargerId });
    if (f.state) q.where({ state: f.state });
    return q;
  }

  /** Active reservations that have not run out yet (the expiry job may not have run). */
  async holding(chargerId?: string): Promise<Reservation[]> {
    const q = this.#db<Row>('reservations_reservations').where({ state: 'active' }).where('expires_at', '>', this.#clock.iso());
    if (chargerId) q.where({ charger_id: chargerId });
    return (await q.orderBy('id')).map(view);
  }

  async activeCount(userId: number): Promise<number> {
    const row = await this.#db('reservations_reservations')
      .where({ user_id: userId, state: 'active' }).where('expires_at', '>', this.#clock.iso())
      .count<{ n: number }[]>({ n: '*' }).first();
    return Number(row?.n ?? 0);
  }

  async insert(r: NewReservation): Promise<Reservation> {
    const [row] = await this.#db('reservations_reservations').insert({
      charger_id: r.chargerId, connector_id: r.connectorId, id_tag: r.idTag, parent_id_tag: r.parentIdTag,
      user_id: r.userId, state: 'active', enforcement: r.enforcement, created_at: this.#clock.iso(),
      expires_at: r.expiresAt, created_by: r.createdBy,
    }).returning('id');
    const id = typeof row === 'object' ? (row as { id: number }).id : (row as number);
    return (await this.get(id))!;
  }

  async setEnforcement(id: number, enforcement: 'charger' | 'local'): Promise<void> {
    await this.#db('reservations_reservations').where({ id }).update({ enforcement });
  }

  /** Forgets a reservation the charger refused before anyone saw it. */
  async discard(id: number): Promise<void> {
    await this.#db('reservations_reservations').where({ id }).delete();
  }

  /** Ends an active reservation; null when it had already ended. */
  async end(
    id: number, state: Exclude<ReservationState, 'active'>, extra: { transactionId?: number; cancelledBy?: string; reason?: string } = {},
  ): Promise<Reservation | null> {
    const changed = await this.#db('reservations_reservations').where({ id, state: 'active' }).update({
      state, ended_at: this.#clock.iso(),
      ...(extra.transactionId !== undefined ? { transaction_id: extra.transactionId } : {}),
      ...(extra.cancelledBy ? { cancelled_by: extra.cancelledBy } : {}),
      ...(extra.reason ? { end_reason: extra.reason } : {}),
    });
    return changed ? this.get(id) : null;
  }

  /** Active reservations whose time is up. */
  async due(): Promise<Reservation[]> {
    return (await this.#db<Row>('reservations_reservations').where({ state: 'active' }).where('expires_at', '<=', this.#clock.iso()).orderBy('id')).map(view);
  }

  /** Per driver: how reservations ended, for the operators' no-show list. */
  async outcomes(): Promise<Array<{ userId: number | null; used: number; noShows: number; cancelled: number; lastNoShowAt: string | null }>> {
    const rows = await this.#db('reservations_reservations')
      .select('user_id', 'state')
      .count<{ user_id: number | null; state: ReservationState; n: number }[]>({ n: '*' })
      .max({ last: 'ended_at' })
      .whereNot({ state: 'active' })
      .groupBy('user_id', 'state');
    const by = new Map<number | null, { userId: number | null; used: number; noShows: number; cancelled: number; lastNoShowAt: string | null }>();
    for (const r of rows as unknown as Array<{ user_id: number | null; state: ReservationState; n: number; last: string | null }>) {
      const e = by.get(r.user_id ?? null) ?? { userId: r.user_id ?? null, used: 0, noShows: 0, cancelled: 0, lastNoShowAt: null };
      if (r.state === 'used') e.used = Number(r.n);
      if (r.state === 'expired') { e.noShows = Number(r.n); e.lastNoShowAt = r.last; }
      if (r.state === 'cancelled') e.cancelled = Number(r.n);
      by.set(e.userId, e);
    }
    return [...by.values()].sort((a, b) => b.noShows - a.noShows || (a.userId ?? 0) - (b.userId ?? 0));
  }
}
