import type { Knex } from 'knex';
import type { Clock } from '../clock.js';

/** An applied site config. Its text holds the file as written, secrets too: it is never sent out as it is. */
export interface ConfigVersion {
  id: number;
  at: string;
  actor: string;
  summary: string;
}

// Enough for years of edits; the oldest go first.
const KEEP_VERSIONS = 200;

export class ConfigVersions {
  #db: Knex;
  #clock: Clock;

  constructor(db: Knex, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  async latest(): Promise<(ConfigVersion & { text: string }) | undefined> {
    return this.#db('config_versions').orderBy('id', 'desc').first();
  }

  async get(id: number): Promise<(ConfigVersion & { text: string }) | undefined> {
    return this.#db('config_versions').where({ id }).first();
  }

  /** The version before this one, to show what it changed. */
  async before(id: number): Promise<{ text: string } | undefined> {
    return this.#db('config_versions').where('id', '<', id).orderBy('id', 'desc').first('text');
  }

  async list(limit = 50): Promise<ConfigVersion[]> {
    return this.#db('config_versions').orderBy('id', 'desc').limit(limit).select('id', 'at', 'actor', 'summary');
  }

  async add(actor: string, summary: string, text: string): Promise<number> {
    const [row] = await this.#db('config_versions').insert({ at: this.#clock.iso(), actor, summary, text }).returning('id');
    const id = typeof row === 'object' ? (row as { id: number }).id : Number(row);
    await this.#db('config_versions').where('id', '<=', id - KEEP_VERSIONS).delete();
    return id;
  }
}
