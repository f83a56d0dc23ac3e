import type { Migration } from '../../core/types.js';

/** Tables of the billing plugin. Times are ISO 8601 UTC strings; money is decimal strings, never floats. */
export const migrations: Migration[] = [
  {
    id: '001-tariffs',
    async up(db) {
      await db.schema.createTable('billing_tariffs', (t) => {
        t.increments('id');
        t.boolean('is_default').notNullable().defaultTo(false);
        t.integer('current_version_id');
        t.string('created_at').notNullable();
        // A deleted tariff keeps its versions: past sessions still point at them.
        t.string('deleted_at');
      });
      // Every edit is a new row, never an update: a session keeps the version it started with.
      await db.schema.createTable('billing_tariff_versions', (t) => {
        t.increments('id');
        t.integer('tariff_id').notNullable();
        t.integer('version').notNullable();
        t.text('body').notNullable();
        t.string('created_at').notNullable();
        t.string('created_by');
        t.unique(['tariff_id', 'version']);
        t.index(['tariff_id', 'created_at']);
      });
      // Which tariff version a session is priced with, fixed when it starts.
      await db.schema.createTable('billing_sessions', (t) => {
        t.integer('transaction_id').primary();
        t.integer('tariff_id');
        t.integer('tariff_version_id');
        t.string('rule');
        t.integer('user_id');
        // Lower-case parent idTag of the card, for group tariffs and group budgets.
        t.string('group_key');
        t.string('resolved_at').notNullable();
        t.index(['group_key']);
      });
      // The final cost of each closed session.
      await db.schema.createTable('billing_costs', (t) => {
        t.integer('transaction_id').primary();
        t.integer('tariff_id');
        t.integer('tariff_version_id');
        t.string('currency').notNullable();
        t.string('amount').notNullable();
        t.string('vat_amount').notNullable();
        t.double('energy_wh').notNullable();
        // The priced lines (JSON), so a statement can be checked line by line.
        t.text('detail').notNullable();
        t.string('computed_at').notNullable();
      });
    },
  },
  {
    id: '002-cost-summary',
    async up(db) {
      // What a statement line shows, beside the JSON: a month's export reads these instead of parsing every breakdown.
      // Rows stored before have them empty and are read from their JSON.
      await db.schema.alterTable('billing_costs', (t) => {
        t.string('tariff_name');
        t.integer('tariff_version');
        t.string('rule');
        t.string('net_amount');
        t.text('calculation');
      });
    },
  },
];
