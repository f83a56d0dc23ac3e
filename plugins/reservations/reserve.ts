import { ApiError } from '../../core/errors.js';
import type { EventMap } from '../../core/events.js';
import { sendErrorOf } from '../../core/ocpp/send-error.js';
import type { PluginContext } from '../../core/plugin.js';
import type { Principal } from '../../core/types.js';
import type { UsersApi } from '../users/api.js';
import { cardFor, isDriver } from './cards.js';
import type { ReservationsConfig } from './config.js';
import { owns, type Holds } from './holds.js';
import type { KeyedLock } from './keyed-lock.js';
import type { Reservation, ReservationStore } from './store.js';
import { errorMessage } from '../../core/errors.js';

export interface ReserveInput {
  chargerId: string;
  /** Omitted: the first free connector; 0: any connector (when config.connectorZero). */
  connectorId?: number;
  idTag?: string;
  /** Staff: reserve for this driver with their first active card. */
  userId?: number;
  /** Omitted: now + maxDuration. */
  expiresAt?: string;
}

export interface ReserveDeps {
  ctx: PluginContext<ReservationsConfig>;
  store: ReservationStore;
  holds: Holds;
  locks: KeyedLock;
  users: () => UsersApi;
}

// CALLERROR codes that mean "this charger has no Reservation profile".
const NO_PROFILE = new Set(['NotSupported', 'NotImplemented']);

// Actor of the reservation sent again after a boot, and of the cancel when it is refused.
const RESTORER = 'plugin:reservations';

// What became of a reservation sent to the charger: who holds the connector now, or why no one does.
type ReserveOutcome =
  | { holder: 'charger' | 'local' }
  | { refused: ApiError; offline: boolean };

/** Making, cancelling, using and expiring reservations. */
export class ReservationService {
  readonly #d: ReserveDeps;

  constructor(deps: ReserveDeps) {
    this.#d = deps;
  }

  #emit(event: 'reservation.created' | 'reservation.ended', r: Reservation): void {
    const e: EventMap['reservation.created'] = { ...r, at: this.#d.ctx.core.clock.iso() };
    this.#d.ctx.emit(event, e);
  }

  async reserve(input: ReserveInput, principal: Principal): Promise<Reservation> {
    const { ctx } = this.#d;
    const { clock, chargers } = ctx.core;
    const nowMs = clock.nowMs();
    const expiresAt = this.#expiry(input.expiresAt, nowMs);
    if (input.connectorId === 0 && !ctx.config.connectorZero) {
      throw ApiError.badRequest([{ field: 'connectorId', message: 'reserving connector 0 (any connector) is not enabled at this site' }]);
    }
    const charger = await chargers.get(input.chargerId);
    if (!charger) throw ApiError.badRequest([{ field: 'chargerId', message: `no charger ${input.chargerId}` }]);
    if (input.connectorId !== undefined && input.connectorId > 0 && !charger.connectors.some((c) => c.connectorId === input.connectorId)) {
      throw ApiError.badRequest([{ field: 'connectorId', message: `charger ${input.chargerId} has no connector ${input.connectorId}` }]);
    }
    const card = await cardFor(this.#d.users(), principal, clock.iso(), { idTag: input.idTag, userId: input.userId, chargerId: input.chargerId });

    return this.#d.locks.run(input.chargerId, async () => {
      if (!chargers.isOnline(input.chargerId)) throw ApiError.conflict(`charger ${input.chargerId} is offline`);
      const connectorId = await this.#pickConnector(input.chargerId, input.connectorId);
      if (card.userId !== null) {
        const active = await this.#d.store.activeCount(card.userId);
        if (active >= ctx.config.maxActivePerUser) {
          const who = isDriver(principal) ? 'you already have' : `user ${card.userId} already has`;
          throw ApiError.conflict(`${who} ${active} active reservation${active === 1 ? '' : 's'} (at most ${ctx.config.maxActivePerUser})`);
        }
      }
      const answer = await chargers.authorize({ chargerId: input.chargerId, connectorId: connectorId || null, idTag: card.idTag, context: 'RemoteStart' });
      if (answer.status !== 'Accepted') throw ApiError.conflict(`card ${card.idTag} would not be accepted at ${input.chargerId} now (${answer.status})`);

      const local = ctx.config.enforceLocally.includes(input.chargerId);
      const r = await this.#d.store.insert({
        chargerId: input.chargerId, connectorId, idTag: card.idTag, parentIdTag: answer.parentIdTag ?? card.parentIdTag ?? null,
        userId: card.userId, expiresAt, enforcement: local ? 'local' : 'charger', createdBy: principal.username,
      });
      if (!local) await this.#reserveAtCharger(r, principal.username);
      const made = (await this.#d.store.get(r.id))!;
      await ctx.core.audit.record(principal.username, 'reservation.create', `reservation:${made.id}`, {
        chargerId: made.chargerId, connectorId: made.connectorId, idTag: made.idTag, userId: made.userId, expiresAt: made.expiresAt, enforcement: made.enforcement,
      });
      this.#emit('reservation.created', made);
      ctx.log.info(`reservation ${made.id}: ${made.chargerId}/${made.connectorId} for ${made.idTag} until ${made.expiresAt} (${made.enforcement})`);
      return made;
    });
  }

  #expiry(requested: string | undefined, nowMs: number): string {
    const max = nowMs + this.#d.ctx.config.maxDuration;
    if (requested === undefined) return new Date(max).toISOString();
    const ms = Date.parse(requested);
    if (Number.isNaN(ms)) throw ApiError.badRequest([{ field: 'expiresAt', message: 'expected an ISO 8601 date-time' }]);
    if (ms <= nowMs) throw ApiError.badRequest([{ field: 'expiresAt', message: 'must be in the future' }]);
    // A second of slack: a client computing now + maxDuration is not refused for its own latency.
    if (ms > max + 1000) {
      throw ApiError.badRequest([{ field: 'expiresAt', message: `a reservation lasts at most ${Math.round(this.#d.ctx.config.maxDuration / 60_000)} minutes` }]);
    }
    return new Date(Math.min(ms, max)).toISOString();
  }

  // A connector that is Available and not held, or 409 saying why not.
  async #pickConnector(chargerId: string, wanted: number | undefined): Promise<number> {
    const { holds } = this.#d;
    const [statuses, held] = await Promise.all([holds.statuses(chargerId), holds.at(chargerId)]);
    const anyHolds = held.filter((h) => h.connectorId === 0).length;
    const free = [...statuses.entries()]
      .filter(([c, s]) => c > 0 && s === 'Available' && !held.some((h) => h.connectorId === c))
      .map(([c]) => c).sort((a, b) => a - b);
    if (wanted === undefined || wanted === 0) {
      if (free.length <= anyHolds) throw ApiError.conflict(`no connector of ${chargerId} is free to reserve`);
      return wanted ?? free[0]!;
    }
    const status = statuses.get(wanted);
    const holder = held.find((h) => h.connectorId === wanted);
    if (holder) throw ApiError.conflict(`connector ${wanted} of ${chargerId} is ${holder.kind === 'queue' ? 'held for the next driver in line' : 'already reserved'} until ${holder.until}`);
    if (status !== 'Available') throw ApiError.conflict(`connector ${wanted} of ${chargerId} is ${status ?? 'not reporting its status'}, not Available`);
    // Taking this connector must leave one free connector for each "any connector" reservation.
    if (free.length - 1 < anyHolds) throw ApiError.conflict(`the free connectors of ${chargerId} are reserved`);
    return wanted;
  }

  // Sends a new reservation to the charger; refused, it is forgotten and the caller told why.
  async #reserveAtCharger(r: Reservation, actor: string): Promise<void> {
    const { store } = this.#d;
    let out: ReserveOutcome;
    try {
      out = await this.#sendReservation(r, actor);
    } catch (err) {
      await store.discard(r.id);
      throw err;
    }
    if ('refused' in out) {
      await store.discard(r.id);
      throw out.refused;
    }
    if (out.holder === 'local') await store.setEnforcement(r.id, 'local');
  }

  // Sends the reservation and sorts the answer; a charger that does not take reservations leaves the enforcing to the appliance.
  async #sendReservation(r: Reservation, actor: string): Promise<ReserveOutcome> {
    const input = {
      reservationId: r.id, connectorId: r.connectorId, idTag: r.idTag, expiresAt: r.expiresAt,
      ...(r.parentIdTag ? { parentIdTag: r.parentIdTag } : {}),
    };
    let status: string;
    try {
      status = (await this.#d.ctx.core.chargers.commands.reserve(r.chargerId, input, { actor })).status;
    } catch (err) {
      const e = sendErrorOf(err);
      switch (e?.kind) {
        case 'callerror':
          if (NO_PROFILE.has(e.code)) return { holder: 'local' };
          return { refused: new ApiError(502, `charger ${r.chargerId} answered the reservation with ${e.code}: ${e.message}`), offline: false };
        case 'offline': return { refused: ApiError.conflict(`charger ${r.chargerId} is offline`), offline: true };
        case 'timeout': return { refused: new ApiError(504, `charger ${r.chargerId} did not answer the reservation in time`), offline: false };
        case 'invalid': return { refused: ApiError.badRequest(e.fields), offline: false };
        default: throw err;
      }
    }
    if (status === 'Accepted') return { holder: 'charger' };
    // Rejected = "not configured to accept reservations".
    if (status === 'Rejected') return { holder: 'local' };
    return { refused: ApiError.conflict(`charger ${r.chargerId} refused the reservation: connector ${r.connectorId} is ${status}`), offline: false };
  }

  /**
   * A charger booted: sends the reservations it held again,
   * since a restarted charger forgets them in practice. Its answer counts as
   * for a new reservation, except that a refused one ends (cancelled, with
   * the reason) instead of being forgotten; while the charger is offline the
   * rest wait for its next boot.
   */
  async restore(chargerId: string): Promise<void> {
    const { ctx, store } = this.#d;
    await this.#d.locks.run(chargerId, async () => {
      const local = ctx.config.enforceLocally.includes(chargerId);
      for (const { id } of await store.holding(chargerId)) {
        // Read again: a driver may have used or cancelled it while an earlier one was being sent.
        const r = await store.get(id);
        if (!r || r.state !== 'active' || r.enforcement !== 'charger' || Date.parse(r.expiresAt) <= ctx.core.clock.nowMs()) continue;
        // Listed in enforceLocally since it was made (site config changed): never send it to the charger again.
        if (local) {
          await store.setEnforcement(id, 'local');
          continue;
        }
        const out = await this.#sendReservation(r, RESTORER);
        if ('holder' in out) {
          if (out.holder === 'local') {
            await store.setEnforcement(id, 'local');
            ctx.log.info(`${chargerId} no longer takes reservations since it restarted: reservation ${id} is enforced by the appliance`);
          }
          continue;
        }
        if (out.offline) {
          ctx.log.info(`${chargerId} went offline while its reservations were sent again; they are sent at its next boot`);
          return;
        }
        await this.#lose(r, `${chargerId} restarted and could not hold it again: ${out.refused.message}`);
      }
    });
  }

  /** The charger was removed: its reservations end, each driver told why. */
  async chargerRemoved(chargerId: string, by: string): Promise<void> {
    await this.#d.locks.run(chargerId, async () => {
      for (const r of await this.#d.store.holding(chargerId)) await this.#lose(r, `${chargerId} was removed from the site by ${by}`);
    });
  }

  // Ends a reservation the charger will not hold: its driver gets reservation.ended with the reason, the line the connector.
  async #lose(r: Reservation, reason: string): Promise<void> {
    const { ctx, store } = this.#d;
    const ended = await store.end(r.id, 'cancelled', { cancelledBy: RESTORER, reason });
    if (!ended) return;
    ctx.log.warn(`reservation ${r.id} at ${r.chargerId}/${r.connectorId} for ${r.idTag} cancelled: ${reason}`);
    await ctx.core.audit.record(RESTORER, 'reservation.cancel', `reservation:${r.id}`, { chargerId: r.chargerId, connectorId: r.connectorId, reason });
    this.#emit('reservation.ended', ended);
  }

  /** Cancels an active reservation and tells the charger; answers what the charger said. */
  async cancel(id: number, principal: Principal): Promise<Reservation & { chargerAnswer: string | null }> {
    const { ctx, store } = this.#d;
    const r = await store.get(id);
    if (!r || (isDriver(principal) && r.userId !== principal.userId)) throw ApiError.notFound(`reservation ${id}`);
    if (r.state !== 'active') throw ApiError.conflict(`reservation ${id} is already ${r.state}`);
    const ended = await store.end(id, 'cancelled', { cancelledBy: principal.username });
    if (!ended) throw ApiError.conflict(`reservation ${id} has just ended`);
    let chargerAnswer: string | null = null;
    if (r.enforcement === 'charger') {
      try {
        chargerAnswer = (await ctx.core.chargers.commands.cancelReservation(r.chargerId, { reservationId: r.id }, { actor: principal.username })).status;
      } catch (err) {
        // The charger drops the reservation at its expiry anyway; the appliance stops enforcing it now.
        chargerAnswer = sendErrorOf(err)?.kind === 'offline' ? 'offline' : 'error';
        ctx.log.warn(`cancelling reservation ${r.id} at ${r.chargerId} failed: ${errorMessage(err)}`);
      }
    }
    await ctx.core.audit.record(principal.username, 'reservation.cancel', `reservation:${id}`, { chargerId: r.chargerId, connectorId: r.connectorId, chargerAnswer });
    this.#emit('reservation.ended', ended);
    return { ...ended, chargerAnswer };
  }

  /** A session started: the reservation it fulfils is used. */
  async started(e: EventMap['session.started']): Promise<void> {
    if (e.idTagInfo.status !== 'Accepted') return;
    const { store, holds } = this.#d;
    const candidates = (await holds.at(e.chargerId)).filter((h) => h.kind === 'reservation');
    const card = { idTag: e.idTag, userId: e.userId, ...(e.idTagInfo.parentIdTag ? { parentIdTag: e.idTagInfo.parentIdTag } : {}) };
    // The id a charger names must be one of its own reservations, held for this card.
    const hit = candidates.find((h) => h.id === e.reservationId && owns(h, card))
      ?? candidates.find((h) => (h.connectorId === e.connectorId || h.connectorId === 0) && owns(h, card));
    if (!hit) return;
    const used = await store.end(hit.id, 'used', { transactionId: e.transactionId });
    if (used) {
      this.#emit('reservation.ended', used);
      this.#d.ctx.log.info(`reservation ${used.id} used by transaction ${e.transactionId}`);
    }
  }

  /**
   * The charger dropped a reservation it held: its time was up there (it ends expired, as when its time is up
   * here) or it removed it (it ends cancelled); nothing is sent back. Only an active reservation this very charger holds.
   */
  async droppedByCharger(e: EventMap['reservation.status']): Promise<void> {
    const { store, ctx } = this.#d;
    const r = await store.get(e.reservationId);
    // A charger names its reservations by number: one made at another charger (or held by the appliance) is not its to end.
    if (!r || r.chargerId !== e.chargerId || r.enforcement !== 'charger' || r.state !== 'active') return;
    // Removed is not a no-show (the driver may never have had the chance): it ends cancelled, by the charger.
    const ended = e.status === 'expired'
      ? await store.end(r.id, 'expired', { reason: `its time was up at ${r.chargerId}` })
      : await store.end(r.id, 'cancelled', { cancelledBy: `charger:${r.chargerId}`, reason: `${r.chargerId} removed it` });
    if (!ended) return;
    ctx.log.info(`reservation ${r.id} at ${r.chargerId}/${r.connectorId} for ${r.idTag} ended ${ended.state}: ${ended.endReason}`);
    this.#emit('reservation.ended', ended);
  }

  /** Ends reservations whose time is up: each is a no-show. */
  async expire(): Promise<void> {
    for (const r of await this.#d.store.due()) {
      const ended = await this.#d.store.end(r.id, 'expired');
      if (!ended) continue;
      this.#d.ctx.log.info(`reservation ${r.id} at ${r.chargerId}/${r.connectorId} expired unused (no-show of ${r.idTag})`);
      this.#emit('reservation.ended', ended);
    }
  }
}
