import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { bootedCharger, createTag, createUser, useApp } from '../kit/index.js';
import { dropDatabase, PG_SERVER, postgresAdmin, postgresSkipped, uniqueDatabase } from '../kit/postgres.js';

const run = promisify(execFile);
const skip = await postgresSkipped();
const TSX = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'tsx');
const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'migrate-to-postgres.ts');

/** Runs the command as an installer would; resolves with its exit code and output instead of throwing. */
async function migrateToPostgres(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(TSX, [SCRIPT, ...args], { timeout: 60_000, env: { ...process.env, CHARGEKEEPER_CONFIG: '/nonexistent/site.yaml' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const PLUGINS = {
  users: {}, billing: { currency: 'EUR' }, diagnostics: {}, alerts: { channels: [] }, reservations: {}, fleet: {}, chargermodels: {},
};

describe.skipIf(skip)('npm run migrate-to-postgres', () => {
  const apps = useApp();
  const database = uniqueDatabase('ck_copy');
  const dirs: string[] = [];
  const url = `postgres://${PG_SERVER.user}@${PG_SERVER.host}:${PG_SERVER.port}/${database}`;
  afterAll(async () => {
    await dropDatabase(database);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('copies a SQLite site into an empty PostgreSQL database, checked by counts and totals, and the appliance goes on from there', async () => {
    const sqliteDir = mkdtempSync(join(tmpdir(), 'ck-copy-src-'));
    dirs.push(sqliteDir);
    const t = await apps.start({ dataDir: sqliteDir, config: { storage: { client: 'sqlite' }, plugins: PLUGINS } });
    const kim = await createUser(t, 'kim', 'driver', 'kim-password-1');
    await createTag(t, { idTag: 'COPYTAG', userId: kim.id });
    expect((await t.api('POST', '/tariffs', { body: { name: 'Standard', pricePerKwh: 0.3, sessionFee: 1 } })).status).toBe(201);
    const cp = await bootedCharger(t, 'CP1');
    const start = new Date(Date.now() - 3_600_000).toISOString();
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'COPYTAG', meterStart: 1000, timestamp: start }) as { transactionId: number };
    await cp.call('MeterValues', { connectorId: 1, transactionId, meterValue: [{ timestamp: new Date(Date.now() - 1_800_000).toISOString(), sampledValue: [{ value: '6000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
    await cp.call('StopTransaction', { transactionId, meterStop: 11000, timestamp: new Date().toISOString(), reason: 'Local' });
    await expect.poll(async () => (await t.api('GET', `/transactions/${transactionId}`)).body.cost).toEqual({ amount: '4.00', currency: 'EUR' });
    await t.stop();
    const file = join(sqliteDir, 'chargekeeper.sqlite');

    // A file a version older than this one left (a migration not applied) is refused, naming what to do.
    const older = join(sqliteDir, 'older.db');
    copyFileSync(file, older);
    const db = new Database(older);
    db.prepare("delete from migrations_core where name = (select max(name) from migrations_core)").run();
    db.close();
    await postgresAdmin((c) => c.query(`create database ${database}`));
    const refusedOld = await migrateToPostgres(['--from', older, '--to', url]);
    expect(refusedOld.code).toBe(2);
    expect(refusedOld.stderr).toMatch(/core is at an older schema .*start this version of the appliance on it once/);

    const copied = await migrateToPostgres(['--from', file, '--to', url]);
    expect(copied.stderr).toBe('');
    expect(copied.code).toBe(0);
    expect(copied.stdout).toMatch(/transactions: 1 rows/);
    expect(copied.stdout).toMatch(/checked: \d+ tables, \d+ rows, counts and totals equal/);

    // A second copy into the same database would double the site: refused, nothing written.
    const again = await migrateToPostgres(['--from', file, '--to', url]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds data \(table \w+\); copy into an empty database/);

    const onPg = await apps.start({ config: { storage: { client: 'postgres', connection: { ...PG_SERVER, database } }, plugins: PLUGINS } });
    const tx = (await onPg.api('GET', `/transactions/${transactionId}`)).body;
    expect(tx).toMatchObject({ idTag: 'COPYTAG', userId: kim.id, energyWh: 10000, cost: { amount: '4.00', currency: 'EUR' } });
    expect(tx.meterValues).toHaveLength(1);
    expect((await onPg.api('GET', `/statements?userId=${kim.id}&period=${start.slice(0, 7)}`)).body).toMatchObject({ amount: '4.00', energyWh: 10000 });
    // The copied password hash signs kim in; ids go on after the copied ones instead of colliding.
    const kimToken = await onPg.login('kim', 'kim-password-1');
    expect((await onPg.api('GET', '/auth/me', { token: kimToken })).body).toMatchObject({ username: 'kim', role: 'driver' });
    const cp2 = await bootedCharger(onPg, 'CP1');
    const next = await cp2.call('StartTransaction', { connectorId: 1, idTag: 'COPYTAG', meterStart: 11000, timestamp: new Date().toISOString() }) as { transactionId: number };
    expect(next.transactionId).toBe(transactionId + 1);
  }, 120_000);

  it('says what is wrong with its arguments', async () => {
    // Four separate runs at once: each is a process start, nothing they share.
    const [none, missing, wrongUrl, noTarget] = await Promise.all([
      migrateToPostgres([]),
      migrateToPostgres(['--from', '/nonexistent/x.db', '--to', 'postgres://x@127.0.0.1/y']),
      migrateToPostgres(['--from', 'x.db', '--to', 'mysql://x']),
      migrateToPostgres(['--from', 'x.db']),
    ]);
    expect(none).toMatchObject({ code: 2, stderr: expect.stringMatching(/--from: the SQLite file to copy is required/) });
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringMatching(/--from \/nonexistent\/x\.db: cannot open it/) });
    expect(wrongUrl).toMatchObject({ code: 2, stderr: expect.stringMatching(/--to: expected a postgres:\/\/ URL/) });
    expect(noTarget).toMatchObject({ code: 2, stderr: expect.stringMatching(/site config has problems|no target/) });
  }, 60_000);
});
