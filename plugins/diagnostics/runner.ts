import type { EventMap, EventName } from '../../core/events.js';
import type { PluginContext } from '../../core/plugin.js';
import type { AnyCheck, CheckContext } from './check.js';
import type { ProbeResult } from './probes.js';
import type { FindingStore } from './store.js';
import { errorMessage } from '../../core/errors.js';

/** setTimeout takes at most a signed 32-bit delay; a longer wait is re-armed when it fires. */
const MAX_DELAY_MS = 2_147_483_647;

/** One enabled check, its context and the deadlines it is waiting for. */
interface Entry {
  check: AnyCheck;
  cx: CheckContext<unknown, unknown>;
  /** Condition key → server time (ms) when its tick should run. */
  due: Map<string, number>;
  timer: NodeJS.Timeout | null;
  /** The deadline the timer is set for (Infinity = none). */
  armedFor: number;
  /** The tick in progress, and whether another was asked for meanwhile. */
  ticking: Promise<void> | null;
  again: boolean;
}

/**
 * Runs the enabled checks: hands each the events it reads, the evaluation
 * tick, the start-up re-evaluation and probe results, each with its own
 * context. A check that throws is logged and does not stop the others.
 * A check's tick runs at the deadlines it names (wakeAt) and on the
 * evaluation job; ticks of one check never overlap.
 */
export class CheckRunner {
  #ctx: PluginContext<unknown>;
  #store: FindingStore;
  #enabled: Entry[];
  #live = false;

  #probeSoon: (chargerId: string) => void;

  constructor(ctx: PluginContext<unknown>, store: FindingStore, enabled: AnyCheck[], probeSoon: (chargerId: string) => void) {
    this.#ctx = ctx;
    this.#store = store;
    this.#probeSoon = probeSoon;
    this.#enabled = enabled.map((check) => {
      const entry: Entry = {
        check, cx: this.#context(check, (key, atMs) => this.#wakeAt(entry, key, atMs)),
        due: new Map(), timer: null, armedFor: Infinity, ticking: null, again: false,
      };
      return entry;
    });
  }

  #context(check: AnyCheck, wakeAt: (key: string, atMs: number) => void): CheckContext<unknown, unknown> {
    const ctx = this.#ctx;
    const store = this.#store;
    return {
      id: check.id, config: ctx.config, state: check.state(), db: ctx.db, core: ctx.core, log: ctx.log.child(check.id),
      now: () => ctx.core.clock.nowMs(),
      raise: (f) => store.raise(check.id, f),
      clear: (key) => store.clear(check.id, key),
      clearWhere: (match) => store.clearWhere(check.id, match),
      active: () => store.active(check.id),
      wakeAt,
      probeSoon: (chargerId) => this.#probeSoon(chargerId),
    };
  }

  async #each(hook: string, fn: (check: AnyCheck, cx: CheckContext<unknown, unknown>) => Promise<void> | void | undefined): Promise<void> {
    for (const { check, cx } of this.#enabled) await this.#guard(check, hook, () => fn(check, cx));
  }

  async #guard(check: AnyCheck, hook: string, fn: () => Promise<void> | void | undefined): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.#failed(check, hook, err);
    }
  }

  #failed(check: AnyCheck, hook: string, err: unknown): void {
    this.#ctx.log.error(`check ${check.id}/${hook} failed: ${errorMessage(err)}`, { stack: err instanceof Error ? err.stack : undefined });
  }

  #wakeAt(entry: Entry, key: string, atMs: number): void {
    entry.due.set(key, atMs);
    // Every other deadline is at or after the armed one, so an earlier one is the new soonest.
    if (atMs < entry.armedFor) this.#arm(entry, atMs);
  }

  #arm(entry: Entry, atMs: number): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    entry.armedFor = atMs;
    if (!this.#live || atMs === Infinity) return;
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, atMs - this.#ctx.core.clock.nowMs()));
    entry.timer = setTimeout(() => void this.#fire(entry), delay);
    entry.timer.unref();
  }

  async #fire(entry: Entry): Promise<void> {
    entry.timer = null;
    const now = this.#ctx.core.clock.nowMs();
    let due = false;
    let next = Infinity;
    for (const [key, at] of entry.due) {
      if (at <= now) {
        entry.due.delete(key);
        due = true;
      } else if (at < next) next = at;
    }
    entry.armedFor = Infinity;
    if (due) await this.#tick(entry);
    // A wakeAt during the tick may have armed an earlier deadline already.
    if (next < entry.armedFor) this.#arm(entry, next);
  }

  #tick(entry: Entry): Promise<void> {
    const { check, cx } = entry;
    if (!check.tick) return Promise.resolve();
    if (entry.ticking) {
      entry.again = true;
      return entry.ticking;
    }
    entry.ticking = (async () => {
      try {
        do {
          entry.again = false;
          await this.#guard(check, 'tick', () => check.tick?.(cx));
        } while (entry.again);
      } finally {
        entry.ticking = null;
      }
    })();
    return entry.ticking;
  }

  /** Subscribes once per event that some enabled check reads (wiring only: call from register()). */
  subscribe(): void {
    const events = new Set(this.#enabled.flatMap(({ check }) => Object.keys(check.on) as EventName[]));
    for (const event of events) {
      // Only the checks that read this event, each awaited only when it returned a promise: this runs for every sample.
      const readers = this.#enabled.flatMap(({ check, cx }) => {
        const handler = check.on[event] as ((e: unknown, cx: CheckContext<unknown, unknown>) => void | Promise<void>) | undefined;
        return handler ? [{ check, cx, handler }] : [];
      });
      this.#ctx.on(event, async (e: EventMap[typeof event]) => {
        for (const { check, cx, handler } of readers) {
          try {
            const done = handler(e, cx);
            if (done) await done;
          } catch (err) {
            this.#failed(check, event, err);
          }
        }
      });
    }
  }

  async start(): Promise<void> {
    // Findings of a check that was removed or disabled would never clear by themselves.
    const ids = new Set(this.#enabled.map(({ check }) => check.id));
    await this.#store.clearWhere(null, (f) => !ids.has(f.check));
    await this.#each('start', (check, cx) => check.start?.(cx));
    this.#live = true;
    // Deadlines named before the timers could run (by start() or early events).
    for (const entry of this.#enabled) {
      let next = Infinity;
      for (const at of entry.due.values()) if (at < next) next = at;
      this.#arm(entry, next);
    }
  }

  /** Drops every pending deadline timer (the plugin is stopping). */
  stop(): void {
    this.#live = false;
    for (const entry of this.#enabled) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = null;
    }
  }

  async tick(): Promise<void> {
    for (const entry of this.#enabled) await this.#tick(entry);
  }

  probed(result: ProbeResult): Promise<void> {
    return this.#each('probed', (check, cx) => check.probed?.(result, cx));
  }
}
