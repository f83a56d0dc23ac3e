import type { Knex } from 'knex';
import type { Logger } from '../types.js';

type Settle = { resolve: (v: unknown) => void; reject: (e: unknown) => void };
type FnOp = Settle & { kind: 'fn'; fn: (trx: Knex.Transaction) => Promise<unknown> };
type InsertOp = Settle & { kind: 'insert'; table: string; rows: Record<string, unknown>[]; ignoreOn: string[] | null; patient: boolean };
type Op = FnOp | InsertOp;

// SQLite builds may cap bound variables at 999 per statement.
const MAX_VARIABLES = 900;
/** Patient writes queued that make a commit worth it at once: under load they wait no longer than the others. */
const PATIENT_BATCH = 16;

export interface InsertOptions {
  /** Rows that skip those hitting this unique key. */
  ignoreOn?: string[] | null;
  /**
   * May wait up to the writer's patient window for company (meter readings): at a site's pace several
   * messages then share one commit, so one fsync and one copy of each page they touch.
   */
  patient?: boolean;
}

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
 *
 * Patient inserts (meter readings) may wait up to `patientWindowMs` rather than `windowMs`, unless other
 * writes or PATIENT_BATCH patient ones are queued: an SD card then pays one commit for a second's
 * readings of the whole site rather than one per message, and the reply still waits for the commit.
 */
export class GroupWriter {
  #queue: Op[] = [];
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> | null = null;
  #db: Knex;
  #statements = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>();
  #windowMs: number;
  #patientWindowMs: number;
  /** When the timer fires (performance.now()), while one is set. */
  #dueMs = 0;
  /** Writes queued that may not wait the patient window, and patient ones; when the first patient one came. */
  #urgent = 0;
  #patient = 0;
  #firstPatientMs = 0;
  #log: Logger;
  /** Number of commits and writes so far, for the benchmark and tests. */
  stats = { commits: 0, writes: 0 };
  /** Told each commit's duration (transaction and fsync) in seconds, for the metrics. */
  onCommit: ((seconds: number) => void) | null = null;

  constructor(db: Knex, windowMs: number, log: Logger, patientWindowMs = windowMs) {
    this.#db = db;
    this.#windowMs = windowMs;
    this.#patientWindowMs = Math.max(windowMs, patientWindowMs);
    this.#log = log;
  }

  write<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ kind: 'fn', fn, resolve: resolve as (v: unknown) => void, reject });
      this.#urgent++;
      this.#schedule();
    });
  }

  /** Inserts rows, merged with other callers' rows for the same table (see InsertOptions). */
  insert(table: string, rows: Record<string, unknown>[], options: InsertOptions = {}): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    const patient = options.patient === true && this.#patientWindowMs > this.#windowMs;
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ kind: 'insert', table, rows, ignoreOn: options.ignoreOn ?? null, patient, resolve: resolve as (v: unknown) => void, reject });
      if (!patient) this.#urgent++;
      else if (this.#patient++ === 0) this.#firstPatientMs = performance.now();
      this.#schedule();
    });
  }

  /** Sets the timer for the earliest moment the queue asks for; a flush under way reschedules when it ends. */
  #schedule(): void {
    if (this.#flushing || this.#queue.length === 0) return;
    const now = performance.now();
    const due = this.#urgent > 0 || this.#patient >= PATIENT_BATCH ? now + this.#windowMs : this.#firstPatientMs + this.#patientWindowMs;
    if (this.#timer) {
      if (this.#dueMs <= due) return;
      clearTimeout(this.#timer);
    }
    this.#dueMs = due;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.flush();
    }, Math.max(0, due - now));
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
    this.#urgent = 0;
    this.#patient = 0;
    this.#flushing = this.#commit(batch);
    try {
      await this.#flushing;
    } finally {
      this.#flushing = null;
      this.#schedule();
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
