import Database from 'better-sqlite3';
import type { Knex } from 'knex';
import { migrate } from '../core/db/index.js';
import type { Migration } from '../core/types.js';

/** Every owner of tables (the core, each plugin and adapter by manifest name) and its migrations. */
export type Owners = Map<string, Migration[]>;

export interface TableCheck {
  table: string;
  rows: number;
  /** Sums of the numeric columns, the same on both sides when the copy is whole. */
  sums: Record<string, number>;
}

export class CopyError extends Error {}

type Row = Record<string, unknown>;

const MIGRATION_TABLE = /^migrations_(.+?)(_lock)?$/;
// PostgreSQL takes at most 65,535 parameters per statement.
const MAX_PARAMS = 60_000;
const MAX_ROWS_PER_INSERT = 1_000;

/** The source file's tables and which owners' migrations made them, checked to be those of this version. */
export function readSource(file: string, owners: Owners): { db: Database.Database; tables: string[]; owners: string[] } {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new CopyError(`--from ${file}: cannot open it as an SQLite database (${(err as Error).message})`);
  }
  const names = (db.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name").all() as Array<{ name: string }>).map((r) => r.name);
  const byTable = new Map(names.map((n) => [n.replace(/-/g, '_'), n]));
  const used: string[] = [];
  for (const [owner, migrations] of owners) {
    const table = byTable.get(`migrations_${owner.replace(/-/g, '_')}`);
    if (!table) continue;
    const applied = new Set((db.prepare(`select name from "${table}"`).all() as Array<{ name: string }>).map((r) => r.name));
    const missing = migrations.map((m) => m.id).filter((id) => !applied.has(id));
    if (missing.length) {
      throw new CopyError(`--from ${file}: ${owner} is at an older schema (${missing.join(', ')} not applied); start this version of the appliance on it once, stop it, then copy`);
    }
    used.push(owner);
  }
  if (!used.includes('core')) throw new CopyError(`--from ${file}: not a ChargeKeeper database (no core migrations in it)`);
  const known = new Set(used.map((o) => `migrations_${o.replace(/-/g, '_')}`));
  const strange = names.filter((n) => MIGRATION_TABLE.test(n) && !known.has(n.replace(/_lock$/, '')));
  if (strange.length) throw new CopyError(`--from ${file}: tables of a part this version does not have (${strange.join(', ')}); copy with the version that made them`);
  return { db, tables: orderByForeignKeys(db, names.filter((n) => !MIGRATION_TABLE.test(n))), owners: used };
}

/** Parents before children, so each row's foreign keys already exist in the target when it is inserted. */
function orderByForeignKeys(db: Database.Database, tables: string[]): string[] {
  const parents = new Map(tables.map((t) => [t, (db.prepare(`pragma foreign_key_list("${t}")`).all() as Array<{ table: string }>).map((f) => f.table).filter((p) => p !== t)]));
  const done = new Set<string>();
  const order: string[] = [];
  const visit = (t: string, path: Set<string>) => {
    if (done.has(t) || path.has(t)) return;
    path.add(t);
    for (const p of parents.get(t) ?? []) if (parents.has(p)) visit(p, path);
    done.add(t);
    order.push(t);
  };
  for (const t of tables) visit(t, new Set());
  return order;
}

/**
 * Creates every table on the target with the same migrations, and refuses a target that already holds
 * a site (any ChargeKeeper table at all).
 */
export async function prepareTarget(target: Knex, owners: Owners, used: string[], tables: string[]): Promise<void> {
  const existing = await target.raw("select table_name from information_schema.tables where table_schema = current_schema() and table_name like 'migrations\\_%' limit 1");
  if (existing.rows.length) {
    throw new CopyError(`the target database already holds data (table ${existing.rows[0].table_name}); copy into an empty database`);
  }
  for (const owner of used) await migrate(target, owner, owners.get(owner)!);
  for (const table of tables) {
    if (!(await target.schema.hasTable(table))) throw new CopyError(`the target has no table ${table} after its migrations; the SQLite file has tables this version does not make`);
  }
}

interface TargetColumn { name: string; type: string; serial: string | null }

async function targetColumns(trx: Knex.Transaction, table: string): Promise<TargetColumn[]> {
  const rows = (await trx.raw(
    `select column_name as name, data_type as type, pg_get_serial_sequence(quote_ident(table_name), column_name) as serial
       from information_schema.columns where table_schema = current_schema() and table_name = ? order by ordinal_position`, [table],
  )).rows as TargetColumn[];
  return rows;
}

const NUMERIC = new Set(['integer', 'bigint', 'smallint', 'double precision', 'real', 'numeric']);

/** Copies every row, table by table, in one transaction of the target: all of it lands or none. */
export async function copyRows(
  source: Database.Database, target: Knex, tables: string[], progress: (table: string, done: number, total: number) => void,
): Promise<void> {
  await target.transaction(async (trx) => {
    // Rows the migrations seeded (plugin state, defaults) give way to the source's own copies.
    for (const table of [...tables].reverse()) await trx(table).del();
    for (const table of tables) {
      const columns = await targetColumns(trx, table);
      const names = new Set(columns.map((c) => c.name));
      const sourceColumns = (source.prepare(`pragma table_info("${table}")`).all() as Array<{ name: string }>).map((c) => c.name);
      const extra = sourceColumns.filter((c) => !names.has(c));
      if (extra.length) throw new CopyError(`table ${table}: the target lacks column(s) ${extra.join(', ')}`);
      const booleans = columns.filter((c) => c.type === 'boolean').map((c) => c.name);
      const total = (source.prepare(`select count(*) as n from "${table}"`).get() as { n: number }).n;
      const perInsert = Math.max(1, Math.min(MAX_ROWS_PER_INSERT, Math.floor(MAX_PARAMS / Math.max(1, sourceColumns.length))));
      let batch: Row[] = [];
      let done = 0;
      progress(table, 0, total);
      // rowid order keeps ids rising as they were written (and is what SQLite reads fastest).
      const ordered = source.prepare(`select * from "${table}"`);
      for (const row of ordered.iterate() as IterableIterator<Row>) {
        for (const b of booleans) if (row[b] !== null && row[b] !== undefined) row[b] = Boolean(row[b]);
        batch.push(row);
        if (batch.length === perInsert) {
          await trx(table).insert(batch);
          done += batch.length;
          batch = [];
          progress(table, done, total);
        }
      }
      if (batch.length) {
        await trx(table).insert(batch);
        done += batch.length;
        progress(table, done, total);
      }
      // Ids copied as they were leave the sequences behind; the next insert would collide.
      for (const c of columns.filter((col) => col.serial)) {
        await trx.raw(`select setval(?::regclass, coalesce((select max("${c.name}") from "${table}"), 0) + 1, false)`, [c.serial]);
      }
    }
  });
}

/** Row counts and numeric sums of each table, read the same way on both sides. */
export async function checkTables(source: Database.Database, target: Knex, tables: string[]): Promise<Array<{ table: string; source: TableCheck; target: TableCheck }>> {
  const out: Array<{ table: string; source: TableCheck; target: TableCheck }> = [];
  for (const table of tables) {
    const numeric = (await target.raw(
      'select column_name as name from information_schema.columns where table_schema = current_schema() and table_name = ? and data_type = any(?)',
      [table, [...NUMERIC]],
    )).rows.map((r: { name: string }) => r.name) as string[];
    const select = ['count(*) as rows', ...numeric.map((c, i) => `coalesce(sum("${c}"), 0) as s${i}`)].join(', ');
    const a = source.prepare(`select ${select} from "${table}"`).get() as Row;
    const b = (await target.raw(`select ${select} from "${table}"`)).rows[0] as Row;
    const read = (r: Row): TableCheck => ({
      table, rows: Number(r.rows), sums: Object.fromEntries(numeric.map((c, i) => [c, Number(r[`s${i}`])])),
    });
    out.push({ table, source: read(a), target: read(b) });
  }
  return out;
}

/** Whether two checks agree: equal counts, sums equal up to float rounding. */
export function agrees(a: TableCheck, b: TableCheck): boolean {
  if (a.rows !== b.rows) return false;
  return Object.entries(a.sums).every(([c, v]) => Math.abs(v - (b.sums[c] ?? NaN)) <= 1e-9 * Math.max(1, Math.abs(v)));
}
