import type { EventMap, EventName } from '../../core/events.js';
import type { PluginContext } from '../../core/plugin.js';
import type { AnyCheck, CheckContext } from './check.js';
import type { ProbeResult } from './probes.js';
import type { FindingStore } from './store.js';

/**
 * Runs the enabled checks: hands each the events it reads, the evaluation
 * tick, the start-up re-evaluation and probe results, each with its own
 * context. A check that throws is logged and does not stop the others.
 */
export class CheckRunner {
  #ctx: PluginContext<unknown>;
  #store: FindingStore;
  #enabled: Array<{ check: AnyCheck; cx: CheckContext<unknown, unknown> }>;

  #probeSoon: (chargerId: string) => void;

  constructor(ctx: PluginContext<unknown>, store: FindingStore, enabled: AnyCheck[], probeSoon: (chargerId: string) => void) {
    this.#ctx = ctx;
    this.#store = store;
    this.#probeSoon = probeSoon;
    this.#enabled = enabled.map((check) => ({ check, cx: this.#context(check) }));
  }

  #context(check: AnyCheck): CheckContext<unknown, unknown> {
    const ctx = this.#ctx;
    const store = this.#store;
    return {
      id: check.id, config: ctx.config, state: check.state(), db: ctx.db, core: ctx.core, log: ctx.log.child(check.id),
      now: () => ctx.core.clock.nowMs(),
      raise: (f) => store.raise(check.id, f),
      clear: (key) => store.clear(check.id, key),
      clearWhere: (match) => store.clearWhere(check.id, match),
      active: () => store.active(check.id),
      probeSoon: (chargerId) => this.#probeSoon(chargerId),
    };
  }

  async #each(hook: string, fn: (check: AnyCheck, cx: CheckContext<unknown, unknown>) => Promise<void> | void | undefined): Promise<void> {
    for (const { check, cx } of this.#enabled) {
      try {
        await fn(check, cx);
      } catch (err) {
        this.#ctx.log.error(`check ${check.id}/${hook} failed: ${err instanceof Error ? err.message : String(err)}`, { stack: err instanceof Error ? err.stack : undefined });
      }
    }
  }

  /** Subscribes once per event that some enabled check reads (wiring only: call from register()). */
  subscribe(): void {
    const events = new Set(this.#enabled.flatMap(({ check }) => Object.keys(check.on) as EventName[]));
    for (const event of events) {
      this.#ctx.on(event, (e: EventMap[typeof event]) => this.#each(event, (check, cx) => {
        const handler = check.on[event] as ((e: unknown, cx: CheckContext<unknown, unknown>) => void | Promise<void>) | undefined;
        return handler?.(e, cx);
      }));
    }
  }

  async start(): Promise<void> {
    // Findings of a check that was removed or disabled would never clear by themselves.
    const ids = new Set(this.#enabled.map(({ check }) => check.id));
    await this.#store.clearWhere(null, (f) => !ids.has(f.check));
    await this.#each('start', (check, cx) => check.start?.(cx));
  }

  tick(): Promise<void> {
    return this.#each('tick', (check, cx) => check.tick?.(cx));
  }

  probed(result: ProbeResult): Promise<void> {
    return this.#each('probed', (check, cx) => check.probed?.(result, cx));
  }
}
