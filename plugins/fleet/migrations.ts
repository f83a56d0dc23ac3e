import type { Migration } from '../../core/types.js';

export const migrations: Migration[] = [
  {
    id: '001-fleet',
    async up(db) {
      // Firmware files uploaded to the appliance, served to chargers through one-time links.
      await db.schema.createTable('fleet_files', (t) => {
        t.increments('id').primary();
        t.string('name').notNullable();
        t.string('stored_path').notNullable();
        t.integer('size_bytes').notNullable();
        t.string('sha256').notNullable();
        t.string('uploaded_by').notNullable();
        t.string('uploaded_at').notNullable();
      });
      await db.schema.createTable('fleet_campaigns', (t) => {
        t.increments('id').primary();
        t.string('kind').notNullable();
        t.string('name').notNullable();
        t.string('state').notNullable();
        t.text('selection').notNullable();
        t.integer('wave_size').notNullable();
        t.integer('file_id').nullable();
        t.text('firmware_url').nullable();
        t.integer('retries').nullable();
        t.integer('retry_interval_s').nullable();
        t.string('config_key').nullable();
        t.text('config_value').nullable();
        t.boolean('reboot').notNullable().defaultTo(false);
        t.string('created_by').notNullable();
        t.string('created_at').notNullable();
        t.string('finished_at').nullable();
        t.text('stop_reason').nullable();
        t.index(['state']);
      });
      // One row per charger of a campaign: where its update stands, kept so a restart picks it up.
      await db.schema.createTable('fleet_targets', (t) => {
        t.integer('campaign_id').notNullable();
        t.string('charger_id').notNullable();
        t.integer('position').notNullable();
        t.integer('wave').notNullable();
        t.string('state').notNullable();
        t.string('firmware_status').nullable();
        t.string('answer').nullable();
        t.string('old_version').nullable();
        t.string('new_version').nullable();
        t.text('error').nullable();
        t.text('note').nullable();
        t.string('waiting_since').nullable();
        t.string('sent_at').nullable();
        t.string('deadline_at').nullable();
        t.string('finished_at').nullable();
        t.string('token_hash').nullable();
        t.string('link_expires_at').nullable();
        t.integer('downloads').notNullable().defaultTo(0);
        t.primary(['campaign_id', 'charger_id']);
        t.index(['charger_id', 'state']);
        t.index(['token_hash']);
      });
    },
  },
  {
    id: '002-signed-firmware',
    async up(db) {
      // A signed update's signature and certificate, sent with it to the chargers that verify them.
      await db.schema.alterTable('fleet_campaigns', (t) => {
        t.text('signature').nullable();
        t.text('signing_certificate').nullable();
      });
      // The id the charger's firmware notifications name, where it names one: notifications of another update are not this one's.
      await db.schema.alterTable('fleet_targets', (t) => {
        t.integer('request_id').nullable();
      });
    },
  },
];
