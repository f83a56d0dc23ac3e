import type { Migration } from '../../core/types.js';

/** Times are ISO 8601 UTC strings (they sort as text on SQLite and PostgreSQL alike). */
export const migrations: Migration[] = [
  {
    id: '001-alerts',
    async up(db) {
      // Secrets generated on first start (the ack-link HMAC key).
      await db.schema.createTable('alerts_settings', (t) => {
        t.string('key').primary();
        t.text('value').notNullable();
      });
      await db.schema.createTable('alerts_alerts', (t) => {
        t.increments('id');
        /** One problem = one key, e.g. "finding:offline:CP1:" or "charger-rejected:CP9". */
        t.string('problem_key').notNullable().index();
        t.string('kind').notNullable();
        t.string('severity').notNullable();
        t.string('charger_id').index();
        t.integer('connector_id');
        t.integer('finding_id');
        /** The finding whose clear resolved it: a late event about that finding is stale. */
        t.integer('cleared_finding_id');
        t.text('message').notNullable();
        t.text('action');
        /** JSON: e.g. the chargers of a power outage. */
        t.text('details');
        t.string('state').notNullable().index();
        t.string('since').notNullable();
        t.string('raised_at').notNullable();
        t.string('last_raised_at').notNullable();
        t.integer('raise_count').notNullable().defaultTo(1);
        /** How often it re-opened within the flap window. */
        t.integer('flaps').notNullable().defaultTo(0);
        t.string('acknowledged_at');
        t.string('acknowledged_by');
        t.string('resolved_at');
        /** Escalation: restarts (episode + 1) when a problem returns after its resolved notice went out. */
        t.integer('episode').notNullable().defaultTo(0);
        /** Escalation delays count from here (raise, release from hold, end of maintenance). */
        t.string('notify_from').notNullable();
        /** Highest escalation level queued in this episode; -1 = none yet. */
        t.integer('level').notNullable().defaultTo(-1);
        t.integer('repeats').notNullable().defaultTo(0);
        /** Offline alerts wait the outage window before anyone is told, so an outage can fold them. */
        t.boolean('held').notNullable().defaultTo(false);
        /** alert.raised was emitted (a held alert announces itself when released). */
        t.boolean('announced').notNullable().defaultTo(false);
        /** The power-outage alert this one is part of. */
        t.integer('folded_into').index();
      });
      await db.schema.createTable('alerts_history', (t) => {
        t.increments('id');
        t.integer('alert_id').notNullable().index();
        t.string('at').notNullable();
        /** raised, updated, reopened, acknowledged, resolved, folded, released, muted. */
        t.string('what').notNullable();
        t.text('detail');
      });
      // Every notification is committed here before it is sent.
      await db.schema.createTable('alerts_outbox', (t) => {
        t.increments('id');
        t.integer('alert_id').index();
        t.string('channel').notNullable();
        /** The on-call person the channel stands for, when notified through one. */
        t.string('recipient');
        t.integer('level').notNullable();
        t.integer('episode').notNullable().defaultTo(0);
        /** raised, repeat, resolved, test. */
        t.string('kind').notNullable();
        t.string('dedupe_key').notNullable().unique();
        /** pending, sent, failed, cancelled. */
        t.string('status').notNullable();
        t.integer('attempts').notNullable().defaultTo(0);
        t.string('next_attempt_at');
        t.text('last_error');
        t.string('created_at').notNullable();
        t.string('sent_at');
        t.string('last_attempt_at');
        t.index(['status', 'next_attempt_at']);
      });
      await db.schema.createTable('alerts_maintenance', (t) => {
        t.increments('id');
        t.string('charger_id').notNullable().index();
        t.string('until').notNullable();
        t.text('reason');
        t.string('created_by').notNullable();
        t.string('created_at').notNullable();
      });
      // Used one-time ack links, by nonce.
      await db.schema.createTable('alerts_ack_links', (t) => {
        t.string('nonce').primary();
        t.integer('alert_id').notNullable();
        t.string('used_at').notNullable();
      });
    },
  },
  {
    id: '002-push-subscriptions',
    async up(db) {
      // Browsers (operator pages, installed PWAs) that asked for Web Push, per account.
      await db.schema.createTable('alerts_push_subscriptions', (t) => {
        t.increments('id');
        t.string('username').notNullable().index();
        t.string('endpoint', 2048).notNullable().unique();
        t.string('p256dh').notNullable();
        t.string('auth').notNullable();
        t.string('created_at').notNullable();
      });
    },
  },
  {
    id: '003-driver-notices',
    async up(db) {
      // Notices to a driver's own phones, queued before they are sent (some for later: an idle car, a reservation reminder).
      await db.schema.createTable('alerts_driver_notices', (t) => {
        t.increments('id');
        t.integer('user_id').notNullable().index();
        t.string('kind').notNullable();
        // One notice per thing told (a session, a reservation, a queue turn); re-queuing it is a no-op.
        t.string('dedupe_key').notNullable().unique();
        t.string('charger_id');
        t.integer('connector_id');
        t.string('title').notNullable();
        t.text('body').notNullable();
        t.string('url').notNullable();
        // After this it is moot (the reservation ended, the hold passed): dropped rather than sent late.
        t.string('expires_at');
        t.string('status').notNullable();
        t.integer('attempts').notNullable().defaultTo(0);
        t.string('next_attempt_at');
        t.text('last_error');
        t.string('created_at').notNullable();
        t.string('sent_at');
        t.index(['status', 'next_attempt_at']);
      });
      // What each driver wants told: kinds turned off, own quiet hours.
      await db.schema.createTable('alerts_driver_prefs', (t) => {
        t.integer('user_id').primary();
        t.text('disabled_kinds').notNullable();
        t.string('quiet_from');
        t.string('quiet_to');
        t.string('updated_at').notNullable();
      });
    },
  },
];
