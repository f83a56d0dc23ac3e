import type pg from 'pg';

/** The machine's PostgreSQL: trust auth on loopback. Tests make databases of their own so runs never collide. */
export const PG_SERVER = { host: '127.0.0.1', port: 5432, user: 'postgres' };

export async function postgresAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const { default: driver } = await import('pg');
  const client = new driver.Client({ ...PG_SERVER, database: 'postgres', connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Whether the PostgreSQL tests run: in CI PostgreSQL is part of the machine, so its absence fails them
 * instead of skipping them; elsewhere they are skipped with a warning.
 */
export async function postgresSkipped(): Promise<boolean> {
  const reachable = await postgresAdmin(async () => true).catch(() => false);
  const skip = !reachable && process.env.CI !== 'true';
  if (skip) console.warn('\n!! PostgreSQL tests SKIPPED: nothing answers on 127.0.0.1:5432\n');
  return skip;
}

/** A name no other run uses, for a database a test creates and drops. */
export const uniqueDatabase = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;

export const dropDatabase = (database: string) => postgresAdmin((c) => c.query(`drop database if exists ${database} with (force)`));
