import type { Knex } from 'knex';
import type { Clock } from '../../core/clock.js';
import { countRows } from '../../core/http/paging.js';

export type QueueState = 'waiting' | 'offered' | 'used' | 'skipped' | 'cancelled' | 'expired';

/** A place on the waitlist. */
export interface QueueEntry {
  id: number;
  userId: number;
  /** The charger waited for; null = any charger of the site. */
  chargerId: string | null;
  /** waiting → offered (a connector is held) → used; skipped = did not come in time; cancelled = left the line. */
  state: QueueState;
  createdAt: string;
  offeredAt: string | null;
  /** While offered: the hold ends then. */
  holdUntil: string | null;
  offeredChargerId: string | null;
  offeredConnectorId: number | null;
  endedAt: string | null;
  transactionId: number | null;
  /** 1 = next in line, among those waiting for the same charger or the whole site; null once offered or ended. */
  position: number | null;
}

interface Row {
  id: number; user_id: number; charger_id: string | null; state: QueueState; created_at: string; created_by: string;
  offered_at: string | null; hold_until: string | null; offered_charger_id: string | null; offered_connector_id: number | null;
  ended_at: string | null; transaction_id: number | null;
}

const view = (r: Row, position: number | null = null): QueueEntry => ({
  id: r.id, userId: r.user_id, chargerId: r.charger_id ?? null, state: r.state, createdAt: r.created_at,
  offeredAt: r.offered_at ?? null, holdUntil: r.hold_until ?? null, offeredChargerId: r.offered_charger_id ?? null,
  offeredConnectorId: r.offered_connector_id ?? null, endedAt: r.ended_at ?? null, transactionId: r.transaction_id ?? null,
  position,
});

const OPEN: QueueState[] = ['waiting', 'offered'];

/** Which waitlist entries a list shows: open ones (or all), of one driver (or everyone's). */
export interface QueueFilter { userId?: number; all?: boolean; limit?: number; offset?: number }

/** The waitlist, first come first served. */
export class QueueStore {
  readonly #db: Knex;
  readonly #clock: Clock;

  constructor(db: Knex, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  async get(id: number): Promise<QueueEntry | null> {
    const row = await this.#db<Row>('reservations_queue').where({ id }).first();
    if (!row) return null;
    return (await this.#withPositions([row]))[0]!;
  }

  /** Open entries (waiting or offered), first in line first; ended ones too with all = true. */
  async list(f: QueueFilter = {}): Promise<QueueEntry[]> {
    const q = this.#filtered(f).orderBy('id', f.all ? 'desc' : 'asc').limit(f.limit ?? 500).offset(f.offset ?? 0);
    return this.#withPositions(await q);
  }

  /** How many entries the filter matches, all pages together. */
  count(f: QueueFilter): Promise<number> {
    return countRows(this.#filtered(f));
  }

  #filtered(f: QueueFilter): Knex.QueryBuilder {
    const q = this.#db<Row>('reservations_queue');
    if (!f.all) q.whereIn('state', OPEN);
    if (f.userId !== undefined) q.where({ user_id: f.userId });
    return q;
  }

  /** Open entries waiting for this charger, or offered a connector of it. */
  async openAt(chargerId: string): Promise<QueueEntry[]> {
    const rows = await this.#db<Row>('reservations_queue').whereIn('state', OPEN)
      .where((q) => q.where({ charger_id: chargerId }).orWhere({ offered_charger_id: chargerId })).orderBy('id');
    return rows.map((r) => view(r));
  }

  async openOf(userId: number): Promise<QueueEntry | null> {
    const row = await this.#db<Row>('reservations_queue').where({ user_id: userId }).whereIn('state', OPEN).orderBy('id').first();
    return row ? (await this.#withPositions([row]))[0]! : null;
  }

  async waitingCount(): Promise<number> {
    const row = await this.#db('reservations_queue').where({ state: 'waiting' }).count<{ n: number }[]>({ n: '*' }).first();
    return Number(row?.n ?? 0);
  }

  async insert(userId: number, chargerId: string | null, createdBy: string): Promise<QueueEntry> {
    const [row] = await this.#db('reservations_queue').insert({
      user_id: userId, charger_id: chargerId, state: 'waiting', created_at: this.#clock.iso(), created_by: createdBy,
    }).returning('id');
    return (await this.get(typeof row === 'object' ? (row as { id: number }).id : (row as number)))!;
  }

  /** The first waiting entry that a free connector of this charger serves. */
  async next(chargerId: string): Promise<QueueEntry | null> {
    const row = await this.#db<Row>('reservations_queue').where({ state: 'waiting' })
      .where((w) => { w.whereNull('charger_id').orWhere({ charger_id: chargerId }); })
      .orderBy('id').first();
    return row ? view(row) : null;
  }

  async offer(id: number, chargerId: string, connectorId: number, holdUntil: string): Promise<QueueEntry | null> {
    const changed = await this.#db('reservations_queue').where({ id, state: 'waiting' }).update({
      state: 'offered', offered_at: this.#clock.iso(), hold_until: holdUntil, offered_charger_id: chargerId, offered_connector_id: connectorId,
    });
    return changed ? this.get(id) : null;
  }

  /** An offer that can no longer be kept: the entry waits again at its old place in line. */
  async requeue(id: number): Promise<void> {
    await this.#db('reservations_queue').where({ id, state: 'offered' }).update({
      state: 'waiting', offered_at: null, hold_until: null, offered_charger_id: null, offered_connector_id: null,
    });
  }

  /** Offers holding a connector now. */
  async holding(chargerId?: string): Promise<QueueEntry[]> {
    const q = this.#db<Row>('reservations_queue').where({ state: 'offered' }).where('hold_until', '>', this.#clock.iso());
    if (chargerId) q.where({ offered_charger_id: chargerId });
    return (await q.orderBy('id')).map((r) => view(r));
  }

  /** Offers whose hold ran out. */
  /** Entries still waiting (never offered) that joined before `beforeIso`. */
  async stale(beforeIso: string): Promise<QueueEntry[]> {
    return (await this.#db<Row>('reservations_queue').where({ state: 'waiting' }).where('created_at', '<', beforeIso).orderBy('id')).map((r) => view(r));
  }

  async due(): Promise<QueueEntry[]> {
    return (await this.#db<Row>('reservations_queue').where({ state: 'offered' }).where('hold_until', '<=', this.#clock.iso()).orderBy('id')).map((r) => view(r));
  }

  /** Ends an open entry; null when it had already ended. */
  async end(id: number, state: 'used' | 'skipped' | 'cancelled' | 'expired', transactionId?: number): Promise<QueueEntry | null> {
    const changed = await this.#db('reservations_queue').where({ id }).whereIn('state', OPEN).update({
      state, ended_at: this.#clock.iso(), ...(transactionId !== undefined ? { transaction_id: transactionId } : {}),
    });
    return changed ? this.get(id) : null;
  }

  // Position among the waiting entries an entry competes with: same charger, or site-wide ones, and the reverse.
  async #withPositions(rows: Row[]): Promise<QueueEntry[]> {
    if (!rows.some((r) => r.state === 'waiting')) return rows.map((r) => view(r));
    const waiting = await this.#db<Row>('reservations_queue').where({ state: 'waiting' }).orderBy('id').select('id', 'charger_id');
    return rows.map((r) => {
      if (r.state !== 'waiting') return view(r);
      const ahead = waiting.filter((w) => w.id < r.id && (r.charger_id === null || w.charger_id === null || w.charger_id === r.charger_id)).length;
      return view(r, ahead + 1);
    });
  }
}
