import type pg from 'pg';
import { errorMessage } from '../errors.js';
import type { Logger } from '../types.js';

/** First key of every job lock, so the job locks of ChargeKeeper never meet another program's advisory locks. */
const LOCK_CLASS = 0x4b43;

/**
 * Runs each periodic job on one node of the cluster at a time: a node runs a job while it holds the job's
 * PostgreSQL advisory lock (pg_try_advisory_lock on a hash of its name). The locks live on one connection
 * of their own, so a node that dies (its session ends) releases them and another node takes the job over.
 */
export class JobLocks {
  #connection: pg.ClientConfig;
  #log: Logger;
  #client: Promise<pg.Client> | null = null;
  #held = new Set<string>();
  #stopped = false;

  constructor(connection: Record<string, unknown>, log: Logger) {
    this.#connection = connection as pg.ClientConfig;
    this.#log = log;
  }

  #connect(): Promise<pg.Client> {
    this.#client ??= (async () => {
      const { default: driver } = await import('pg');
      const client = new driver.Client({ ...this.#connection, connectionTimeoutMillis: 5000 });
      const lost = () => {
        // The session ended and took its locks along: none is held any more.
        if (this.#client === current) this.#client = null;
        this.#held.clear();
      };
      const current = this.#client;
      client.on('error', (err) => {
        this.#log.warn(`job lock connection lost: ${errorMessage(err)}`);
        lost();
      });
      client.on('end', lost);
      await client.connect();
      return client;
    })();
    const attempt = this.#client;
    attempt.catch(() => { if (this.#client === attempt) this.#client = null; });
    return attempt;
  }

  /** Whether this node runs the job now: it holds the lock, or takes it if no other node does. */
  async holds(name: string): Promise<boolean> {
    if (this.#stopped) return false;
    const client = await this.#connect();
    if (this.#held.has(name)) return true;
    const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1::int, hashtext($2)) as ok', [LOCK_CLASS, name]);
    if (rows[0]?.ok) {
      this.#held.add(name);
      this.#log.info(`running job ${name} on this node`);
    }
    return Boolean(rows[0]?.ok);
  }

  /** The job, run only while this node holds its lock. */
  gate(name: string, fn: () => void | Promise<void>): () => Promise<void> {
    return async () => {
      if (await this.holds(name)) await fn();
    };
  }

  /** Ends the session, which releases every lock for the other nodes. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const client = this.#client;
    this.#client = null;
    this.#held.clear();
    if (client) await (await client.catch(() => null))?.end().catch(() => undefined);
  }
}
