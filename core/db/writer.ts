import type { Knex } from 'knex';
import type { Logger } from '../types.js';

type Op = { fn: (trx: Knex.Transaction) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void };

/**
 * Group commit: writes that arrive within one window share one transaction
 * and so one fsync. Each write resolves only after its transaction has
 * committed, so a reply sent after `await write(...)` is durable. One failing
 * write is rolled back to its own savepoint and does not fail its neighbours.
 */
export class GroupWriter {
  #queue: Op[] = [];
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> | null = null;
  #db: Knex;
  #windowMs: number;
  #log: Logger;
  /** Number of commits and writes so far, for the benchmark and tests. */
  stats = { commits: 0, writes: 0 };

  constructor(db: Knex, windowMs: number, log: Logger) {
    this.#db = db;
    this.#windowMs = windowMs;
    this.#log = log;
  }

  write<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#timer || this.#flushing) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.flush();
    }, this.#windowMs);
  }

  /** Commits everything queued now; resolves when the queue is empty. */
  async flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    while (this.#flushing) await this.#flushing;
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#flushing = this.#commit(batch);
    try {
      await this.#flushing;
    } finally {
      this.#flushing = null;
      if (this.#queue.length) this.#schedule();
    }
  }

  async #commit(batch: Op[]): Promise<void> {
    const results: Array<{ ok: boolean; value: unknown }> = [];
    try {
      await this.#db.transaction(async (trx) => {
        for (const op of batch) {
          try {
            const value = await trx.transaction((savepoint) => op.fn(savepoint));
            results.push({ ok: true, value });
          } catch (err) {
            results.push({ ok: false, value: err });
          }
        }
      });
    } catch (err) {
      this.#log.error(`group commit of ${batch.length} writes failed`, { error: String(err) });
      for (const op of batch) op.reject(err);
      return;
    }
    this.stats.commits += 1;
    this.stats.writes += batch.length;
    batch.forEach((op, i) => {
      const r = results[i]!;
      if (r.ok) op.resolve(r.value);
      else op.reject(r.value);
    });
  }
}
