import type { Knex } from 'knex';
import type { Logger } from '../types.js';

type Settle = { resolve: (v: unknown) => void; reject: (e: unknown) => void };
type FnOp = Settle & { kind: 'fn'; fn: (trx: Knex.Transaction) => Promise<unknown> };
type InsertOp = Settle & { kind: 'insert'; table: string; rows: Record<string, unknown>[]; ignoreOn: string[] | null };
type Op = FnOp | InsertOp;

// SQLite builds may cap bound variables at 999 per statement.
const MAX_VARIABLES = 900;

interface SqliteStatement { run(params: unknown[]): unknown }
interface SqliteConnection { prepare(sql: string): SqliteStatement }

/** better-sqlite3 binds numbers, strings, buffers and null only. */
const bindable = (v: unknown): unknown => (v === undefined ? null : typeof v === 'boolean' ? Number(v) : v);

/**
 * Group commit: writes that arrive within one window share one transaction
 * and so one fsync. Each write resolves only after its transaction has
 * committed, so a reply sent after `await write(...)` is durable.
 *
 * Plain row inserts (`insert`) from many callers are merged into multi-row
 * statements, which keeps the per-message cost of hot tables such as
 * meter_values low. A write must only touch the database through the
 * transaction it is given, since it may run twice (see #commit).
 */
export class GroupWriter {
  #queue: Op[] = [];
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> | null = null;
  #db: Knex;
  #statements = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>();
  #windowMs: number;
  #log: Logger;
  /** Number of commits and writes so far, for the benchmark and tests. */
  stats = { commits: 0, writes: 0 };
  /** Told each commit's duration (transaction and fsync) in seconds, for the metrics. */
  onCommit: ((seconds: number) => void) | null = null;

  constructor(db: Knex, windowMs: number, log: Logger) {
    this.#db = db;
    this.#windowMs = windowMs;
    this.#log = log;
  }

  write<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ kind: 'fn', fn, resolve: resolve as (v: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Inserts rows, merged with other callers' rows for the same table; `ignoreOn` skips rows that hit that unique key. */
  insert(table: string, rows: Record<string, unknown>[], ignoreOn: string[] | null = null): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ kind: 'insert', table, rows, ignoreOn, resolve: resolve as (v: unknown) => void, reject });
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

  async #run(trx: Knex.Transaction, ops: Op[]): Promise<unknown[]> {
    const out: unknown[] = new Array(ops.length);
    const inserts = new Map<string, { table: string; ignoreOn: string[] | null; rows: Record<string, unknown>[] }>();
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.kind === 'fn') {
        out[i] = await op.fn(trx);
      } else {
        const key = `${op.table}|${op.ignoreOn?.join(',') ?? ''}`;
        const group = inserts.get(key) ?? { table: op.table, ignoreOn: op.ignoreOn, rows: [] };
        group.rows.push(...op.rows);
        inserts.set(key, group);
      }
    }
    for (const { table, ignoreOn, rows } of inserts.values()) await this.#insertRows(trx, table, ignoreOn, rows);
    return out;
  }

  async #insertRows(trx: Knex.Transaction, table: string, ignoreOn: string[] | null, rows: Record<string, unknown>[]): Promise<void> {
    const columns = Object.keys(rows[0]!);
    if (trx.client.config.client === 'better-sqlite3') {
      // knex prepares every statement anew; on the hot path a cached prepared
      // statement per row costs a fifth of a multi-row knex insert (measured).
      const conn = (await trx.client.acquireConnection()) as SqliteConnection;
      const stmt = this.#statement(conn, table, columns, ignoreOn);
      // One parameter array for all rows: run() binds its values before returning.
      const params: unknown[] = new Array(columns.length);
      for (const row of rows) {
        for (let i = 0; i < columns.length; i++) params[i] = bindable(row[columns[i]!]);
        stmt.run(params);
      }
      return;
    }
    const perStatement = Math.max(1, Math.floor(MAX_VARIABLES / columns.length));
    for (let i = 0; i < rows.length; i += perStatement) {
      const q = trx(table).insert(rows.slice(i, i + perStatement));
      await (ignoreOn ? q.onConflict(ignoreOn).ignore() : q);
    }
  }

  #statement(conn: SqliteConnection, table: string, columns: string[], ignoreOn: string[] | null): SqliteStatement {
    let cache = this.#statements.get(conn);
    if (!cache) this.#statements.set(conn, (cache = new Map()));
    const key = `${table}|${columns.join(',')}|${ignoreOn?.join(',') ?? ''}`;
    let stmt = cache.get(key);
    if (!stmt) {
      const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
      const conflict = ignoreOn ? ` ON CONFLICT (${ignoreOn.map(quote).join(', ')}) DO NOTHING` : '';
      stmt = conn.prepare(`INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})${conflict}`);
      cache.set(key, stmt);
    }
    return stmt;
  }

  async #commit(batch: Op[]): Promise<void> {
    // Fast path: the whole batch in one transaction. Should any write fail,
    // the batch is rolled back and each write retried in its own transaction,
    // so one bad write never takes its neighbours down with it.
    let startedMs = performance.now();
    try {
      const values = await this.#db.transaction((trx) => this.#run(trx, batch));
      this.#settled(batch.length, startedMs);
      batch.forEach((op, i) => op.resolve(values[i]));
      return;
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      this.#log.warn(`a write in a batch of ${batch.length} failed; committing them one by one`, { error: String(err) });
    }
    for (const op of batch) {
      try {
        startedMs = performance.now();
        const [value] = await this.#db.transaction((trx) => this.#run(trx, [op]));
        this.#settled(1, startedMs);
        op.resolve(value);
      } catch (err) {
        op.reject(err);
      }
    }
  }

  #settled(writes: number, startedMs: number): void {
    this.stats.commits += 1;
    this.stats.writes += writes;
    this.onCommit?.((performance.now() - startedMs) / 1000);
  }
}
