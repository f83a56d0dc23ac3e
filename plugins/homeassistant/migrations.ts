import type { Migration } from '../../core/types.js';

export const migrations: Migration[] = [
  {
    id: '001-devices',
    async up(db) {
      // What is retained on the broker for each charger, so a charger removed while the broker or the appliance was down is still cleared.
      await db.schema.createTable('homeassistant_devices', (t) => {
        t.string('slug').primary();
        t.string('charger_id').notNullable().unique();
        t.text('topics').notNullable();
        t.string('updated_at').notNullable();
      });
      await db.schema.createTable('homeassistant_errors', (t) => {
        t.string('charger_id').primary();
        t.text('error').notNullable();
      });
    },
    async down(db) {
      await db.schema.dropTableIfExists('homeassistant_devices');
      await db.schema.dropTableIfExists('homeassistant_errors');
    },
  },
];
