// `npm run migrate-to-postgres -- --from data/chargekeeper.sqlite [--to postgres://user@host:5432/db]`
// Copies a site from its SQLite file into an empty PostgreSQL database, then checks row counts and
// totals table by table. Without --to, the target is storage.connection of the site config
// (CHARGEKEEPER_CONFIG, default config/default.yaml). Stop the appliance first: the copy reads a still file.
import knex, { type Knex } from 'knex';
import { parseArgs } from 'node:util';
import { siteParts } from '../app/site.js';
import { loadCoreConfig } from '../core/config.js';
import { coreMigrations } from '../core/db/migrations.js';
import { agrees, checkTables, CopyError, copyRows, type Owners, prepareTarget, readSource } from './postgres-copy.js';

function fail(message: string): never {
  process.stderr.write(`migrate-to-postgres: ${message}\n`);
  process.exit(2);
}

function targetConnection(to: string | undefined): Knex.PgConnectionConfig | string {
  if (to) {
    if (!/^postgres(ql)?:\/\//.test(to)) fail(`--to: expected a postgres:// URL, got "${to.slice(0, 40)}"`);
    return to;
  }
  const { config, problems } = loadCoreConfig(process.env);
  if (!config) fail(`the site config has problems: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const storage = config.core.storage as { client: string; connection?: Record<string, unknown> };
  if (storage.client !== 'postgres' || !storage.connection) {
    fail(`no target: give --to postgres://..., or set storage.client: postgres and storage.connection in ${config.file}`);
  }
  return storage.connection as Knex.PgConnectionConfig;
}

const shown = (c: Knex.PgConnectionConfig | string) => typeof c === 'string'
  ? c.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:••••@')
  : `postgres://${c.user ?? ''}@${c.host ?? 'localhost'}:${c.port ?? 5432}/${c.database ?? ''}`;

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' } }, strict: true }).values;
  } catch (err) {
    fail((err as Error).message);
  }
  if (!args.from) fail('--from: the SQLite file to copy is required, e.g. --from data/chargekeeper.sqlite');
  const owners: Owners = new Map([['core', coreMigrations]]);
  for (const entry of [...Object.values(siteParts.plugins), ...Object.values(siteParts.adapters)]) {
    owners.set(entry.plugin.manifest.name, entry.plugin.migrations ?? []);
  }
  const connection = targetConnection(args.to);
  const started = Date.now();
  const source = readSource(args.from, owners);
  const target = knex({ client: 'pg', connection, pool: { min: 0, max: 2 } });
  try {
    await target.raw('select 1').catch((err: Error) => fail(`cannot reach ${shown(connection)}: ${err.message}`));
    process.stdout.write(`copying ${args.from} (${source.tables.length} tables of ${source.owners.join(', ')}) to ${shown(connection)}\n`);
    await prepareTarget(target, owners, source.owners, source.tables);
    let lastLine = 0;
    await copyRows(source.db, target, source.tables, (table, done, total) => {
      // A line per table and every couple of seconds within a big one: a two-year site takes minutes.
      if (done === total || done === 0 || Date.now() - lastLine > 2_000) {
        if (done === total) process.stdout.write(`  ${table}: ${total} rows\n`);
        else if (done > 0) process.stdout.write(`  ${table}: ${done} of ${total} rows (${Math.round((100 * done) / total)} %)\n`);
        lastLine = Date.now();
      }
    });
    const checks = await checkTables(source.db, target, source.tables);
    const wrong = checks.filter((c) => !agrees(c.source, c.target));
    for (const c of wrong) {
      process.stderr.write(`  MISMATCH ${c.table}: source ${JSON.stringify(c.source)} target ${JSON.stringify(c.target)}\n`);
    }
    if (wrong.length) fail(`${wrong.length} table(s) differ after the copy; the target is not usable as it is`);
    const rows = checks.reduce((n, c) => n + c.source.rows, 0);
    process.stdout.write(`checked: ${checks.length} tables, ${rows} rows, counts and totals equal; done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    process.stdout.write('next: set storage.client: postgres (and storage.connection) in the site config and start the appliance\n');
  } finally {
    source.db.close();
    await target.destroy();
  }
}

main().catch((err: unknown) => {
  if (err instanceof CopyError) fail(err.message);
  fail(`the copy failed and no row was kept (${(err as Error).message}); drop and create the target database again before the next try`);
});
