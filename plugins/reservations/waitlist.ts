import { ApiError } from '../../core/errors.js';
import type { EventMap } from '../../core/events.js';
import type { PluginContext } from '../../core/plugin.js';
import type { Principal } from '../../core/types.js';
import { isDriver } from './cards.js';
import type { ReservationsConfig } from './config.js';
import type { Holds } from './holds.js';
import type { KeyedLock } from './keyed-lock.js';
import type { QueueEntry, QueueStore } from './queue-store.js';

export interface WaitlistDeps {
  ctx: PluginContext<ReservationsConfig>;
  store: QueueStore;
  holds: Holds;
  locks: KeyedLock;
}

/**
 * The line of drivers waiting for a busy site or charger. A connector that
 * turns Available goes to the first driver waiting for it, held for them
 * for queueHold; a driver who does not start in time is skipped and the
 * connector goes to the next.
 */
export class Waitlist {
  readonly #d: WaitlistDeps;

  constructor(deps: WaitlistDeps) {
    this.#d = deps;
  }

  async join(input: { chargerId?: string; userId?: number }, principal: Principal): Promise<QueueEntry> {
    const { ctx, store } = this.#d;
    const userId = isDriver(principal) ? principal.userId : (input.userId ?? principal.userId);
    if (input.chargerId && !(await ctx.core.chargers.get(input.chargerId))) {
      throw ApiError.badRequest([{ field: 'chargerId', message: `no charger ${input.chargerId}` }]);
    }
    if (!isDriver(principal) && input.userId !== undefined && !(await ctx.core.accounts.get(input.userId))) {
      throw ApiError.badRequest([{ field: 'userId', message: `no user ${input.userId}` }]);
    }
    // One lock for every join keeps "one place per driver" and the line length exact.
    const entry = await this.#d.locks.run('queue:join', async () => {
      const open = await store.openOf(userId);
      if (open) throw ApiError.conflict(`${isDriver(principal) ? 'you are' : `user ${userId} is`} already in line (entry ${open.id})`);
      if ((await store.waitingCount()) >= ctx.config.maxQueue) throw ApiError.conflict(`the line is full (${ctx.config.maxQueue} drivers)`);
      return store.insert(userId, input.chargerId ?? null, principal.username);
    });
    await ctx.core.audit.record(principal.username, 'queue.join', `queue:${entry.id}`, { userId, chargerId: entry.chargerId });
    // Something may be free right now.
    if (entry.chargerId) await this.dispatch(entry.chargerId);
    else await this.dispatchAll();
    return (await store.get(entry.id))!;
  }

  async leave(id: number, principal: Principal): Promise<QueueEntry> {
    const { ctx, store } = this.#d;
    const entry = await store.get(id);
    if (!entry || (isDriver(principal) && entry.userId !== principal.userId)) throw ApiError.notFound(`queue entry ${id}`);
    const ended = await store.end(id, 'cancelled');
    if (!ended) throw ApiError.conflict(`queue entry ${id} is already ${entry.state}`);
    await ctx.core.audit.record(principal.username, 'queue.leave', `queue:${id}`, { userId: entry.userId });
    if (entry.state === 'offered' && entry.offeredChargerId) await this.dispatch(entry.offeredChargerId);
    return ended;
  }

  /** Offers each free, unheld connector of a charger to the next driver in line for it. */
  dispatch(chargerId: string): Promise<void> {
    const { ctx, store, holds } = this.#d;
    return this.#d.locks.run(chargerId, async () => {
      if (!ctx.core.chargers.isOnline(chargerId)) return;
      const [statuses, held] = await Promise.all([holds.statuses(chargerId), holds.at(chargerId)]);
      const free = [...statuses.entries()]
        .filter(([c, s]) => c > 0 && s === 'Available' && !held.some((h) => h.connectorId === c))
        .map(([c]) => c).sort((a, b) => a - b)
        // "Any connector" reservations keep one free connector each.
        .slice(held.filter((h) => h.connectorId === 0).length);
      for (const connectorId of free) {
        const next = await store.next(chargerId);
        if (!next) return;
        const holdUntil = new Date(ctx.core.clock.nowMs() + ctx.config.queueHold).toISOString();
        const offered = await store.offer(next.id, chargerId, connectorId, holdUntil);
        if (!offered) continue;
        ctx.log.info(`queue entry ${next.id} (user ${next.userId}): ${chargerId}/${connectorId} held until ${holdUntil}`);
        const e: EventMap['queue.offered'] = { entryId: next.id, userId: next.userId, chargerId, connectorId, holdUntil, at: ctx.core.clock.iso() };
        ctx.emit('queue.offered', e);
      }
    });
  }

  async dispatchAll(): Promise<void> {
    for (const id of this.#d.ctx.core.chargers.onlineIds()) await this.dispatch(id);
  }

  /**
   * The charger was removed: places in line for it end (cancelled); a driver
   * waiting for any charger who was offered a connector of it waits again.
   */
  async chargerRemoved(chargerId: string): Promise<void> {
    const { ctx, store } = this.#d;
    for (const entry of await store.openAt(chargerId)) {
      if (entry.chargerId === chargerId) {
        if (await store.end(entry.id, 'cancelled')) ctx.log.info(`queue entry ${entry.id} (user ${entry.userId}) ended: ${chargerId} was removed`);
      } else {
        await store.requeue(entry.id);
      }
    }
    await this.dispatchAll();
  }

  /** A driver started charging: their place in line is used, and a connector offered elsewhere is freed. */
  async started(e: EventMap['session.started']): Promise<void> {
    if (e.idTagInfo.status !== 'Accepted' || e.userId === null) return;
    const { store } = this.#d;
    for (const entry of await store.list({ userId: e.userId })) {
      if (!(await store.end(entry.id, 'used', e.transactionId))) continue;
      this.#d.ctx.log.info(`queue entry ${entry.id} used by transaction ${e.transactionId}`);
      const elsewhere = entry.state === 'offered' && !(entry.offeredChargerId === e.chargerId && entry.offeredConnectorId === e.connectorId);
      if (elsewhere && entry.offeredChargerId) await this.dispatch(entry.offeredChargerId);
    }
  }

  /** Skips offered drivers whose hold ran out (their connector goes to the next in line); ends places waiting longer than queueMaxWait. */
  async expire(): Promise<void> {
    const { ctx, store } = this.#d;
    const chargers = new Set<string>();
    for (const entry of await store.due()) {
      if (!(await store.end(entry.id, 'skipped'))) continue;
      ctx.log.info(`queue entry ${entry.id} (user ${entry.userId}) skipped: did not start at ${entry.offeredChargerId}/${entry.offeredConnectorId} in time`);
      ctx.emit('queue.skipped', {
        entryId: entry.id, userId: entry.userId, chargerId: entry.offeredChargerId!, connectorId: entry.offeredConnectorId!, at: ctx.core.clock.iso(),
      });
      chargers.add(entry.offeredChargerId!);
    }
    for (const id of chargers) await this.dispatch(id);
    const before = new Date(ctx.core.clock.nowMs() - ctx.config.queueMaxWait).toISOString();
    for (const entry of await store.stale(before)) {
      if (!(await store.end(entry.id, 'expired'))) continue;
      ctx.log.info(`queue entry ${entry.id} (user ${entry.userId}) left the line: waiting since ${entry.createdAt}`);
      ctx.emit('queue.expired', { entryId: entry.id, userId: entry.userId, chargerId: entry.chargerId, createdAt: entry.createdAt, at: ctx.core.clock.iso() });
    }
  }
}
