import type { Migration } from '../../core/types.js';

/** Times are ISO 8601 UTC strings. */
export const migrations: Migration[] = [
  {
    id: '001-findings',
    async up(db) {
      await db.schema.createTable('diagnostics_findings', (t) => {
        t.increments('id');
        t.string('check').notNullable();
        t.string('charger_id');
        t.integer('connector_id');
        // Tells apart conditions of one check on one connector ('' when there is one).
        t.string('sub_key').notNullable().defaultTo('');
        t.string('severity').notNullable();
        t.text('problem').notNullable();
        t.text('cause').notNullable();
        t.text('action').notNullable();
        t.text('message').notNullable();
        t.string('state').notNullable();
        t.string('since').notNullable();
        t.string('cleared_at');
        t.string('updated_at').notNullable();
        t.integer('occurrences').notNullable().defaultTo(1);
        t.text('detail');
        t.index(['state', 'since']);
        t.index(['charger_id', 'since']);
      });
    },
  },
  {
    id: '002-probes',
    async up(db) {
      await db.schema.createTable('diagnostics_probes', (t) => {
        t.increments('id');
        t.string('charger_id').notNullable();
        t.string('trigger').notNullable();
        t.string('started_at').notNullable();
        t.string('finished_at').notNullable();
        t.string('outcome').notNullable();
        t.text('steps').notNullable();
        t.text('configuration').notNullable();
        t.text('unknown_keys').notNullable();
        t.text('notes').notNullable();
        t.index(['charger_id', 'started_at']);
      });
    },
  },
  {
    id: '003-files',
    async up(db) {
      await db.schema.createTable('diagnostics_files', (t) => {
        t.increments('id');
        t.string('charger_id').notNullable();
        // Only the hash of the one-time upload token is kept.
        t.string('token_hash').notNullable().unique();
        t.string('requested_by').notNullable();
        t.string('requested_at').notNullable();
        t.string('expires_at').notNullable();
        t.string('state').notNullable();
        t.string('charger_status');
        t.string('file_name');
        t.string('stored_path');
        t.bigInteger('size_bytes');
        t.string('content_type');
        t.string('uploaded_at');
        t.text('error');
        t.index(['charger_id', 'id']);
      });
    },
  },
  {
    id: '004-runs',
    async up(db) {
      // One row per start of the appliance: sockets that were open then were closed, recorded or not.
      await db.schema.createTable('diagnostics_runs', (t) => {
        t.increments('id');
        t.string('started_at').notNullable().index();
      });
    },
  },
  {
    id: '005-runs-alive',
    async up(db) {
      // The last time each run was known alive: after a power cut of the appliance, its chargers count as offline from here.
      await db.schema.alterTable('diagnostics_runs', (t) => t.string('alive_at'));
    },
  },
  {
    id: '006-files-ftp',
    async up(db) {
      await db.schema.alterTable('diagnostics_files', (t) => {
        // http or ftp; old rows are http.
        t.string('via');
        // When the charger logged in to the FTP server with the request's one-time user: tells "unreachable" from "transfer failed".
        t.string('contacted_at');
      });
    },
    async down(db) {
      await db.schema.alterTable('diagnostics_files', (t) => {
        t.dropColumn('via');
        t.dropColumn('contacted_at');
      });
    },
  },
  {
    id: '007-files-request-id',
    async up(db) {
      // The id the charger's upload notifications name, where its version has one: a late notification of another upload is not this one's.
      await db.schema.alterTable('diagnostics_files', (t) => {
        t.integer('request_id');
      });
    },
    async down(db) {
      await db.schema.alterTable('diagnostics_files', (t) => {
        t.dropColumn('request_id');
      });
    },
  },
];
