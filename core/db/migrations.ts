import type { Knex } from 'knex';
import type { Migration } from '../types.js';

/** The core's own tables. Times are ISO 8601 UTC strings, energy in Wh, power in W. */
export const coreMigrations: Migration[] = [
  {
    id: '001-chargers',
    async up(db: Knex) {
      await db.schema.createTable('chargers', (t) => {
        t.string('id').primary();
        t.string('name');
        t.boolean('approved').notNullable().defaultTo(false);
        t.string('vendor');
        t.string('model');
        t.string('serial_number');
        t.string('firmware_version');
        t.string('iccid');
        t.string('imsi');
        t.string('meter_type');
        t.string('meter_serial_number');
        t.string('password_hash');
        t.string('protocol');
        t.string('boot_status');
        t.string('registered_at').notNullable();
        t.string('last_seen_at');
        t.string('last_boot_at');
        t.string('last_heartbeat_at');
      });
      await db.schema.createTable('connectors', (t) => {
        t.string('charger_id').notNullable().references('chargers.id').onDelete('CASCADE');
        t.integer('connector_id').notNullable();
        t.string('status').notNullable();
        t.string('error_code').notNullable().defaultTo('NoError');
        t.string('info');
        t.string('vendor_id');
        t.string('vendor_error_code');
        t.string('status_at').notNullable();
        t.primary(['charger_id', 'connector_id']);
      });
      await db.schema.createTable('status_notifications', (t) => {
        t.increments('id');
        t.string('charger_id').notNullable();
        t.integer('connector_id').notNullable();
        t.string('status').notNullable();
        t.string('error_code').notNullable();
        t.string('info');
        t.string('vendor_id');
        t.string('vendor_error_code');
        t.string('charger_time').notNullable();
        t.string('received_at').notNullable();
        t.index(['charger_id', 'charger_time']);
      });
      await db.schema.createTable('boot_notifications', (t) => {
        t.increments('id');
        t.string('charger_id').notNullable();
        t.text('payload').notNullable();
        t.string('status').notNullable();
        t.string('received_at').notNullable();
        t.index(['charger_id', 'received_at']);
      });
      // Heartbeats, firmware/diagnostics status, data transfers, connects and disconnects.
      await db.schema.createTable('charger_messages', (t) => {
        t.increments('id');
        t.string('charger_id').notNullable();
        t.string('action').notNullable();
        t.text('payload');
        t.string('charger_time');
        t.string('received_at').notNullable();
        t.index(['charger_id', 'action', 'received_at']);
      });
      await db.schema.createTable('transactions', (t) => {
        t.increments('id');
        t.string('charger_id').notNullable();
        t.integer('connector_id').notNullable();
        t.string('id_tag').notNullable();
        t.integer('user_id');
        t.integer('reservation_id');
        t.string('start_status').notNullable();
        t.double('meter_start_wh').notNullable();
        t.string('started_at').notNullable();
        t.double('meter_stop_wh');
        t.string('stopped_at');
        t.string('stop_reason');
        t.string('stop_id_tag');
        t.double('energy_wh');
        t.string('received_at').notNullable();
        // A StartTransaction resent after a reconnect finds its first copy here.
        t.unique(['charger_id', 'connector_id', 'started_at', 'id_tag'], { indexName: 'transactions_resend' });
        t.index(['charger_id', 'stopped_at']);
        t.index(['user_id', 'started_at']);
        t.index(['id_tag']);
      });
      const sqlite = db.client.config.client === 'better-sqlite3';
      await db.schema.createTable('meter_values', (t) => {
        // On SQLite a plain INTEGER PRIMARY KEY (the rowid) still numbers rows; AUTOINCREMENT would also
        // rewrite the sqlite_sequence page in every commit: a quarter of what a MeterValues costs the SD card.
        if (sqlite) t.specificType('id', 'integer primary key');
        else t.increments('id');
        t.integer('transaction_id');
        t.string('charger_id').notNullable();
        t.integer('connector_id').notNullable();
        t.string('at').notNullable();
        t.string('measurand').notNullable();
        // '' rather than NULL so the de-duplication index treats them as equal.
        t.string('phase').notNullable().defaultTo('');
        t.string('location').notNullable().defaultTo('');
        t.string('context').notNullable().defaultTo('');
        t.string('unit').notNullable();
        t.double('value').notNullable();
        t.unique(['charger_id', 'connector_id', 'at', 'measurand', 'phase', 'location'], { indexName: 'meter_values_resend' });
        t.index(['transaction_id', 'at']);
      });
    },
  },
  {
    id: '002-accounts',
    async up(db: Knex) {
      await db.schema.createTable('accounts', (t) => {
        t.increments('id');
        t.string('username').notNullable().unique();
        t.string('name');
        t.string('email');
        t.string('role').notNullable();
        t.string('password_hash');
        t.boolean('disabled').notNullable().defaultTo(false);
        t.string('created_at').notNullable();
        t.string('updated_at').notNullable();
      });
      await db.schema.createTable('auth_tokens', (t) => {
        t.increments('id');
        t.string('token_hash').notNullable().unique();
        t.integer('account_id').notNullable().references('accounts.id').onDelete('CASCADE');
        t.string('kind').notNullable();
        t.string('label');
        t.string('created_at').notNullable();
        t.string('expires_at');
        t.string('last_used_at');
      });
      await db.schema.createTable('audit', (t) => {
        t.increments('id');
        t.string('at').notNullable();
        t.string('actor').notNullable();
        t.string('action').notNullable();
        t.string('target');
        t.text('detail');
        t.index(['at']);
        t.index(['actor', 'at']);
        t.index(['action', 'at']);
      });
    },
  },
  {
    id: '003-username-case',
    async up(db: Knex) {
      // Logins ignore case, so "Anna" and "anna" must not both exist.
      await db.raw('CREATE UNIQUE INDEX accounts_username_lower ON accounts (lower(username))');
    },
  },
  {
    id: '004-meter-values-resend-by-time',
    async up(db: Knex) {
      // The same de-duplication key led by the reading's time: new readings
      // of every charger then land in the index's last pages instead of one
      // page per charger, so a group commit writes a few pages, not hundreds
      // (measured: saturation throughput +8 % with 500 chargers).
      await db.schema.alterTable('meter_values', (t) => t.dropUnique([], 'meter_values_resend'));
      await db.schema.alterTable('meter_values', (t) => {
        t.unique(['at', 'charger_id', 'connector_id', 'measurand', 'phase', 'location'], { indexName: 'meter_values_resend' });
      });
    },
  },
  {
    id: '005-transactions-by-start',
    async up(db: Knex) {
      // Session lists, statements, exports and the energy chart select by start time over the whole site.
      await db.schema.alterTable('transactions', (t) => t.index(['started_at'], 'transactions_started_at'));
    },
  },
  {
    id: '006-storage-marks',
    async up(db: Knex) {
      // How far housekeeping got (e.g. readings thinned up to a day), so a restart does not scan years again.
      await db.schema.createTable('storage_marks', (t) => {
        t.string('name').primary();
        t.string('value').notNullable();
      });
    },
  },
  {
    id: '007-status-by-connector',
    async up(db: Knex) {
      // Availability finds each connector of a charger and the status it was in when a period began: one seek
      // each with this index, instead of a scan of the charger's whole status history (two years: 35,000 rows).
      await db.schema.alterTable('status_notifications', (t) => t.index(['charger_id', 'connector_id', 'charger_time'], 'status_notifications_by_connector'));
    },
  },
  {
    id: '008-config-versions',
    async up(db: Knex) {
      // Every site config applied (from the UI or found edited in the file): who, when, the whole text, to roll back to.
      await db.schema.createTable('config_versions', (t) => {
        t.increments('id');
        t.string('at').notNullable();
        t.string('actor').notNullable();
        t.string('summary').notNullable();
        t.text('text').notNullable();
      });
    },
  },
  {
    id: '009-ocpp201-transactions',
    async up(db: Knex) {
      // OCPP 2.0.1 names a transaction with the charger's own string; sessions keep the core's integer id and
      // this maps one to the other, per charger, so one charger's string can never reach another's session.
      await db.schema.createTable('ocpp201_transactions', (t) => {
        t.string('charger_id').notNullable();
        t.string('transaction_ref').notNullable();
        t.integer('transaction_id').notNullable().unique();
        t.integer('evse_id').notNullable();
        t.integer('evse_connector_id');
        // false while no energy register was read yet: the first reading then becomes the meter start.
        t.boolean('meter_start_known').notNullable().defaultTo(false);
        // true once session.started went out (a transaction that starts at plug-in is authorized later).
        t.boolean('session_started').notNullable().defaultTo(false);
        t.string('stopped_reason');
        t.primary(['charger_id', 'transaction_ref']);
      });
      // Each TransactionEvent by its seqNo: a resent one is answered from here, a gap is seen against the last.
      await db.schema.createTable('ocpp201_transaction_events', (t) => {
        t.increments('id');
        t.string('charger_id').notNullable();
        t.string('transaction_ref').notNullable();
        t.integer('seq_no').notNullable();
        t.string('event_type').notNullable();
        t.string('trigger_reason').notNullable();
        t.boolean('offline').notNullable().defaultTo(false);
        t.string('charger_time').notNullable();
        t.string('received_at').notNullable();
        t.text('answer').notNullable();
        t.unique(['charger_id', 'transaction_ref', 'seq_no'], { indexName: 'ocpp201_transaction_events_seq' });
        t.index(['charger_id'], 'ocpp201_transaction_events_charger');
      });
      // A 2.0.1 connector is a connector of an EVSE; the neutral connector id is the EVSE id.
      await db.schema.alterTable('connectors', (t) => t.integer('evse_connector_id'));
    },
  },
  {
    id: '010-device-model',
    async up(db: Knex) {
      // An OCPP 2.0.1 charger's device model: one row per attribute of a variable of a component, as its reports and
      // GetVariables/SetVariables answers said. '' and 0 stand for "no instance" and "not on an EVSE/connector" so the key is unique.
      await db.schema.createTable('device_model_variables', (t) => {
        t.string('charger_id').notNullable().references('chargers.id').onDelete('CASCADE');
        t.string('component', 50).notNullable();
        t.string('component_instance', 50).notNullable().defaultTo('');
        t.integer('evse_id').notNullable().defaultTo(0);
        t.integer('connector_id').notNullable().defaultTo(0);
        t.string('variable', 50).notNullable();
        t.string('variable_instance', 50).notNullable().defaultTo('');
        t.string('attribute_type', 8).notNullable().defaultTo('Actual');
        t.text('value');
        t.string('mutability', 10);
        t.string('unit', 16);
        t.string('data_type', 16);
        t.double('min_limit');
        t.double('max_limit');
        t.text('values_list');
        t.boolean('supports_monitoring');
        // The report that last wrote it (a full report drops what it no longer lists); null: from a get or set.
        t.integer('report_id');
        // The charger's last answer to a get or set of this attribute, and why.
        t.string('answer_status', 32);
        t.string('answer_reason', 600);
        t.string('answered_at');
        t.string('updated_at').notNullable();
        t.primary(['charger_id', 'component', 'component_instance', 'evse_id', 'connector_id', 'variable', 'variable_instance', 'attribute_type']);
      });
      // Each GetBaseReport sent; its id is the requestId, so a NotifyReport is taken only from the charger it was sent to.
      await db.schema.createTable('device_model_reports', (t) => {
        t.increments('id');
        t.string('charger_id').notNullable().references('chargers.id').onDelete('CASCADE');
        t.string('kind', 32).notNullable();
        t.string('requested_by').notNullable();
        t.string('requested_at').notNullable();
        // The charger's GetBaseReport answer (Accepted, Rejected, NotSupported, EmptyResultSet); null until it answered.
        t.string('answer', 32);
        t.integer('parts').notNullable().defaultTo(0);
        t.integer('last_seq_no');
        t.integer('variables').notNullable().defaultTo(0);
        t.string('finished_at');
        t.index(['charger_id', 'id']);
      });
    },
  },
  {
    id: '011-certificates',
    async up(db: Knex) {
      // Certificates the site CA issued to chargers; the certificate itself is public, its key stays on the charger.
      await db.schema.createTable('certificates', (t) => {
        t.increments('id');
        t.string('charger_id').notNullable().references('chargers.id').onDelete('CASCADE');
        t.string('serial', 64).notNullable().unique();
        // charger (the TLS client certificate) or v2g (ISO 15118 towards the car).
        t.string('use', 16).notNullable();
        t.string('common_name', 64).notNullable();
        t.string('not_before').notNullable();
        t.string('not_after').notNullable();
        t.string('fingerprint', 100).notNullable();
        t.string('issued_at').notNullable();
        // The charger's CertificateSigned answer (Accepted, Rejected) or why it was not delivered; null until then.
        t.string('delivery', 120);
        t.text('pem').notNullable();
        t.index(['charger_id', 'use', 'id']);
      });
    },
  },
  {
    id: '012-cluster-leases',
    async up(db: Knex) {
      // Which node serves each charger (core/cluster). The epoch only ever grows, so a node that lost the
      // lease can never match it again; renewed_at is the database's clock (null: released on disconnect).
      await db.schema.createTable('cluster_leases', (t) => {
        t.string('charger_id').primary();
        t.string('node_id', 64).notNullable();
        t.bigInteger('epoch').notNullable();
        t.timestamp('renewed_at', { useTz: true });
      });
    },
  },
];

/** Any fixed number: every node of a cluster takes the same lock. */
const MIGRATION_LOCK_KEY = 7_261_002_015;

interface PgConnection { query(sql: string, values?: unknown[]): Promise<unknown> }

/**
 * Runs the migrations holding a PostgreSQL session advisory lock, so nodes starting together on an empty
 * database migrate one after the other (knex's own lock table makes the second fail instead of wait).
 * The lock lives on one pooled connection held aside; the migrations use the others.
 */
export async function withMigrationLock<T>(db: Knex, fn: () => Promise<T>): Promise<T> {
  if (db.client.config.client !== 'pg') return fn();
  const conn = (await db.client.acquireConnection()) as PgConnection;
  try {
    await conn.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await fn();
    } finally {
      await conn.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await db.client.releaseConnection(conn);
  }
}
