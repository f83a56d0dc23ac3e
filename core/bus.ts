import type { Decisions, DecisionName, EventMap, EventName } from './events.js';
import { Clock } from './clock.js';
import type { Logger } from './types.js';
import { errorMessage } from './errors.js';

type Handler<K extends EventName> = (e: EventMap[K]) => void | Promise<void>;
type AnyHandler = (event: EventName, payload: unknown) => void;

interface Subscription {
  owner: string;
  event: EventName;
  fn: (e: unknown) => void | Promise<void>;
}

interface DecisionHandler { owner: string; fn: (arg: never) => unknown }

/**
 * Typed event bus. Events are delivered to all subscribers in parallel; each
 * owner (plugin) sees one charger's events, of every name, one after another
 * in the order they were emitted. A throwing handler is logged as
 * `<owner>/<event>` and reported as plugin.failed.
 */
export class Bus {
  #subs = new Map<EventName, Subscription[]>();
  #decisions = new Map<DecisionName, DecisionHandler[]>();
  #any = new Set<AnyHandler>();
  /** Taps on events emitted here (not replayed from other nodes): the cluster publishes them. */
  #local = new Set<AnyHandler>();
  #inflight = new Set<Promise<void>>();
  /** Tail of each owner's chain per charger ("" for events without one). */
  #tails = new Map<string, Map<string, Promise<void>>>();
  #log: Logger;
  #clock: Clock;

  /** clock: the appliance's time source, so plugin.failed is stamped on the same clock as every other event. */
  constructor(log: Logger, clock: Clock = new Clock()) {
    this.#log = log;
    this.#clock = clock;
  }

  on<K extends EventName>(event: K, fn: Handler<K>, owner = 'core'): () => void {
    const sub: Subscription = { owner, event, fn: fn as Subscription['fn'] };
    const list = this.#subs.get(event) ?? [];
    list.push(sub);
    this.#subs.set(event, list);
    return () => {
      const cur = this.#subs.get(event);
      if (cur) this.#subs.set(event, cur.filter((s) => s !== sub));
    };
  }

  /** Sees every event after the typed subscribers were scheduled; used by the SSE stream. */
  onAny(fn: AnyHandler): () => void {
    this.#any.add(fn);
    return () => this.#any.delete(fn);
  }

  /** Sees every event emitted on this node, and never one replayed from another (core/cluster publishes these). */
  onLocal(fn: AnyHandler): () => void {
    this.#local.add(fn);
    return () => this.#local.delete(fn);
  }

  /**
   * Another node's event, for display only: onAny listeners (the SSE stream) see it, plugin handlers do not,
   * since the node that emitted it already ran its plugins (twice would double bills and alerts).
   */
  replay(event: EventName, payload: unknown): void {
    this.#tellAny(this.#any, event, payload);
  }

  #tellAny(set: Set<AnyHandler>, event: EventName, payload: unknown): void {
    for (const fn of set) {
      try {
        fn(event, payload);
      } catch (err) {
        this.#log.error(`bus listener failed on ${event}`, { error: String(err) });
      }
    }
  }

  emit<K extends EventName>(event: K, payload: EventMap[K]): void {
    const chargerId = (payload as { chargerId?: unknown }).chargerId;
    const key = typeof chargerId === 'string' ? chargerId : '';
    for (const sub of this.#subs.get(event) ?? []) {
      let tails = this.#tails.get(sub.owner);
      if (!tails) this.#tails.set(sub.owner, (tails = new Map()));
      const prev = tails.get(key) ?? Promise.resolve();
      const run = prev.then(() => this.#invoke(sub, payload));
      tails.set(key, run);
      this.#inflight.add(run);
      const owned = tails;
      void run.finally(() => {
        this.#inflight.delete(run);
        if (owned.get(key) === run) owned.delete(key);
      });
    }
    this.#tellAny(this.#any, event, payload);
    if (this.#local.size) this.#tellAny(this.#local, event, payload);
  }

  async #invoke(sub: Subscription, payload: unknown): Promise<void> {
    try {
      await sub.fn(payload);
    } catch (err) {
      this.#fail(sub.owner, sub.event, err);
    }
  }

  #fail(owner: string, hook: string, err: unknown): void {
    const error = errorMessage(err);
    this.#log.error(`${owner}/${hook} failed: ${error}`, { stack: err instanceof Error ? err.stack : undefined });
    if (hook !== 'plugin.failed') {
      this.emit('plugin.failed', { plugin: owner, hook, error, at: this.#clock.iso() });
    }
  }

  decide<K extends DecisionName>(hook: K, fn: Decisions[K], owner = 'core'): () => void {
    const entry: DecisionHandler = { owner, fn: fn as DecisionHandler['fn'] };
    const list = this.#decisions.get(hook) ?? [];
    list.push(entry);
    this.#decisions.set(hook, list);
    return () => {
      const cur = this.#decisions.get(hook);
      if (cur) this.#decisions.set(hook, cur.filter((d) => d !== entry));
    };
  }

  /** Asks the decision's handlers in order; the first answer that is not undefined wins. A throwing handler is skipped. */
  async ask<K extends DecisionName>(
    hook: K,
    arg: Parameters<Decisions[K]>[0],
  ): Promise<Awaited<ReturnType<Decisions[K]>> | undefined> {
    for (const d of this.#decisions.get(hook) ?? []) {
      try {
        const answer = await (d.fn as (a: typeof arg) => unknown)(arg);
        if (answer !== undefined) return answer as Awaited<ReturnType<Decisions[K]>>;
      } catch (err) {
        this.#fail(d.owner, `decide:${hook}`, err);
      }
    }
    return undefined;
  }

  hasDecider(hook: DecisionName): boolean {
    return (this.#decisions.get(hook)?.length ?? 0) > 0;
  }

  /** Resolves when every handler started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }
}
