import type { Knex } from 'knex';

/** What we know about one charger's Local Authorization List and authorization cache. */
export interface ListState {
  chargerId: string;
  /** null = not probed yet. */
  supported: boolean | null;
  /** The version the charger holds as far as we know; null = unknown, so the next sync is Full. */
  listVersion: number | null;
  /** Whether the charger caches cards, as it said; null = unknown (treated as enabled). */
  cacheEnabled: boolean | null;
  /** Most cards its list holds, when the charger told. */
  maxLength: number | null;
  /** Most entries one list update request may carry; null = not told (one request). */
  sendMaxLength: number | null;
  /** A revocation at this list version still waits for the cache to be cleared; null = none. */
  clearCacheWanted: number | null;
  /** The last sync failed and is retried. */
  dirty: boolean;
  probedAt: string | null;
  syncedAt: string | null;
  lastError: string | null;
}

/** One entry as the charger holds it; `info` is the idTagInfo as stable JSON, so lists compare as strings. */
export interface ListEntry { idTag: string; info: string }

const toState = (chargerId: string, r: Record<string, unknown> | undefined): ListState => ({
  chargerId,
  supported: r?.supported == null ? null : Boolean(r.supported),
  listVersion: r?.list_version == null ? null : Number(r.list_version),
  cacheEnabled: r?.cache_enabled == null ? null : Boolean(r.cache_enabled),
  maxLength: r?.max_length == null ? null : Number(r.max_length),
  sendMaxLength: r?.send_max_length == null ? null : Number(r.send_max_length),
  clearCacheWanted: r?.clear_cache_wanted == null ? null : Number(r.clear_cache_wanted),
  dirty: Boolean(r?.dirty),
  probedAt: (r?.probed_at as string) ?? null,
  syncedAt: (r?.synced_at as string) ?? null,
  lastError: (r?.last_error as string) ?? null,
});

/** Storage of list state and of what each charger's list holds. */
export class ListStateStore {
  readonly #db: Knex;

  constructor(db: Knex) {
    this.#db = db;
  }

  async load(chargerId: string): Promise<ListState> {
    return toState(chargerId, await this.#db('users_local_lists').where({ charger_id: chargerId }).first());
  }

  async all(): Promise<ListState[]> {
    return (await this.#db('users_local_lists').orderBy('charger_id')).map((r: Record<string, unknown>) => toState(r.charger_id as string, r));
  }

  /** Saves everything but clear_cache_wanted, which revocations set concurrently (see wantCacheCleared). */
  async save(s: ListState): Promise<void> {
    const fields = {
      supported: s.supported, list_version: s.listVersion, cache_enabled: s.cacheEnabled,
      max_length: s.maxLength, send_max_length: s.sendMaxLength,
      dirty: s.dirty, probed_at: s.probedAt, synced_at: s.syncedAt, last_error: s.lastError,
    };
    await this.#db('users_local_lists').insert({ charger_id: s.chargerId, ...fields }).onConflict('charger_id').merge(fields);
  }

  async wantCacheCleared(chargerIds: string[], version: number): Promise<void> {
    for (const id of chargerIds) {
      await this.#db('users_local_lists').insert({ charger_id: id, clear_cache_wanted: version })
        .onConflict('charger_id').merge({ clear_cache_wanted: version });
    }
  }

  /** Clears the request only if no newer revocation came in while the cache was being cleared. */
  async clearCacheDone(chargerId: string, version: number): Promise<void> {
    await this.#db('users_local_lists').where({ charger_id: chargerId, clear_cache_wanted: version }).update({ clear_cache_wanted: null });
  }

  async entries(chargerId: string): Promise<Map<string, ListEntry>> {
    const rows = await this.#db('users_local_list_entries').where({ charger_id: chargerId });
    return new Map(rows.map((r: Record<string, string>) => [r.id_tag_key!, { idTag: r.id_tag!, info: r.info! }]));
  }

  /** Drops everything kept for a charger that was removed. */
  async forget(chargerId: string): Promise<void> {
    await this.#db.transaction(async (trx) => {
      await trx('users_local_list_entries').where({ charger_id: chargerId }).delete();
      await trx('users_local_lists').where({ charger_id: chargerId }).delete();
    });
  }

  async replaceEntries(chargerId: string, entries: Map<string, ListEntry>): Promise<void> {
    await this.#db.transaction(async (trx) => {
      await trx('users_local_list_entries').where({ charger_id: chargerId }).delete();
      const rows = [...entries].map(([key, e]) => ({ charger_id: chargerId, id_tag_key: key, id_tag: e.idTag, info: e.info }));
      if (rows.length) await trx.batchInsert('users_local_list_entries', rows, 200);
    });
  }
}
