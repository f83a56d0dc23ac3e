import type { Migration } from '../../core/types.js';

export const migrations: Migration[] = [
  {
    id: '001-reservations',
    async up(db) {
      // The id is the OCPP reservationId the charger is sent.
      await db.schema.createTable('reservations_reservations', (t) => {
        t.increments('id');
        t.string('charger_id').notNullable();
        t.integer('connector_id').notNullable();
        t.string('id_tag').notNullable();
        t.string('parent_id_tag');
        t.integer('user_id');
        t.string('state').notNullable();
        // 'charger': the charger accepted the reservation; 'local': the appliance refuses other cards itself.
        t.string('enforcement').notNullable();
        t.string('created_at').notNullable();
        t.string('expires_at').notNullable();
        t.string('ended_at');
        t.string('created_by').notNullable();
        t.string('cancelled_by');
        t.integer('transaction_id');
        t.index(['charger_id', 'state']);
        t.index(['user_id', 'state']);
        t.index(['state', 'expires_at']);
      });
      await db.schema.createTable('reservations_queue', (t) => {
        t.increments('id');
        t.integer('user_id').notNullable();
        // null = any charger of the site.
        t.string('charger_id');
        t.string('state').notNullable();
        t.string('created_at').notNullable();
        t.string('created_by').notNullable();
        t.string('offered_at');
        t.string('hold_until');
        t.string('offered_charger_id');
        t.integer('offered_connector_id');
        t.string('ended_at');
        t.integer('transaction_id');
        t.index(['state', 'id']);
        t.index(['user_id', 'state']);
      });
    },
  },
  {
    id: '002-site-plan',
    async up(db) {
      await db.schema.createTable('reservations_pins', (t) => {
        t.string('charger_id').primary();
        // Position on the site plan image, as fractions of its width and height (0..1).
        t.double('x').notNullable();
        t.double('y').notNullable();
      });
    },
  },
  {
    id: '003-end-reason',
    async up(db) {
      // Why the appliance ended a reservation itself (e.g. a restarted charger refused it again); null otherwise.
      await db.schema.alterTable('reservations_reservations', (t) => {
        t.string('end_reason');
      });
    },
  },
];
