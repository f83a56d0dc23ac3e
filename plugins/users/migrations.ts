import type { Migration } from '../../core/types.js';

/** Tables of the users plugin. Accounts, tokens and the audit log are the core's. Times are ISO 8601 UTC strings. */
export const migrations: Migration[] = [
  {
    id: '001-tags',
    async up(db) {
      await db.schema.createTable('users_tags', (t) => {
        // Chargers send the same card in different cases; the lower-case key is what matches.
        t.string('id_tag_key').primary();
        t.string('id_tag').notNullable();
        t.integer('user_id');
        t.string('status').notNullable();
        t.string('expires_at');
        t.string('parent_key');
        t.string('parent_id_tag');
        // JSON list of charger ids; NULL = every charger.
        t.text('charger_ids');
        t.text('note');
        t.string('created_at').notNullable();
        t.string('updated_at').notNullable();
        t.index(['user_id']);
        t.index(['parent_key']);
      });
      await db.schema.createTable('users_unknown_tags', (t) => {
        t.string('id_tag_key').primary();
        t.string('id_tag').notNullable();
        t.string('charger_id').notNullable();
        t.integer('connector_id');
        t.string('context').notNullable();
        t.string('first_seen_at').notNullable();
        t.string('last_seen_at').notNullable();
        t.integer('count').notNullable();
        t.index(['last_seen_at']);
      });
      // One row per charger: what we know about its Local Authorization List and cache.
      await db.schema.createTable('users_local_lists', (t) => {
        t.string('charger_id').primary();
        // NULL = not probed yet.
        t.boolean('supported');
        // The version the charger has, as far as we know; NULL = unknown (next sync is Full).
        t.integer('list_version');
        t.boolean('cache_enabled');
        t.integer('max_length');
        // The list version at which a revocation asked this charger to clear its cache; NULL = nothing to clear.
        t.integer('clear_cache_wanted');
        // A sync failed and should be retried.
        t.boolean('dirty').notNullable().defaultTo(false);
        t.string('probed_at');
        t.string('synced_at');
        t.text('last_error');
      });
      // What each charger's list holds, so differential updates are computed, not guessed.
      await db.schema.createTable('users_local_list_entries', (t) => {
        t.string('charger_id').notNullable();
        t.string('id_tag_key').notNullable();
        t.string('id_tag').notNullable();
        t.text('info').notNullable();
        t.primary(['charger_id', 'id_tag_key']);
      });
      await db.schema.createTable('users_state', (t) => {
        t.string('key').primary();
        t.bigInteger('value').notNullable();
      });
      await db('users_state').insert({ key: 'listVersion', value: 0 });
    },
  },
  {
    id: '002-send-local-list-max-length',
    async up(db) {
      // Most entries one list update request may carry, as the charger said; NULL = not told.
      await db.schema.alterTable('users_local_lists', (t) => { t.integer('send_max_length'); });
    },
  },
];
