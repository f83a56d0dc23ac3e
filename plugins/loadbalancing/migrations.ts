import type { Migration } from '../../core/types.js';

export const migrations: Migration[] = [
  {
    id: '001-loadbalancing',
    async up(db) {
      // What an installer changed on the Load page; it overrides the site config until reset.
      await db.schema.createTable('loadbalancing_overrides', (t) => {
        t.string('kind').notNullable();
        t.string('ref').notNullable();
        t.text('value').notNullable();
        t.string('updated_by').notNullable();
        t.string('updated_at').notNullable();
        t.primary(['kind', 'ref']);
      });
      // The load chart, kept across restarts: a row per circuit and charging connector every 30 s, for 6 hours.
      await db.schema.createTable('loadbalancing_points', (t) => {
        // Milliseconds since 1970: past 32 bits (a 64-bit integer in SQLite, bigint in PostgreSQL).
        t.bigInteger('at').notNullable();
        t.string('series').notNullable();
        t.float('limit_a');
        t.float('allocated_a');
        t.float('measured_a');
        t.index(['at']);
      });
    },
  },
];
