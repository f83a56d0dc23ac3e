import { describe, expect, it } from 'vitest';
import { coreMigrations } from '../../core/db/migrations.js';
import { restartableBroker, skip, useCluster } from './kit.js';

describe.skipIf(skip)('nodes starting together on an empty database', () => {
  const cluster = useCluster();

  it('both come up, and each migration is applied once', async () => {
    const broker = await restartableBroker();
    const database = await cluster.database();
    try {
      // Started at once: without the migration lock the second fails on knex's lock table or a duplicate table.
      const [a, b] = await Promise.all([
        cluster.node(database, broker.url, 'node-a'),
        cluster.node(database, broker.url, 'node-b'),
      ]);
      expect((await a.api('GET', '/chargers')).status).toBe(200);
      expect((await b.api('GET', '/chargers')).status).toBe(200);
      const rows = await a.app.db('migrations_core').select('name') as Array<{ name: string }>;
      expect(rows.map((r) => r.name).sort()).toEqual(coreMigrations.map((m) => m.id).sort());
      // One admin account: the first node makes it, the second finds it.
      expect(await a.app.db('accounts').where({ username: 'admin' }).select('id')).toHaveLength(1);
    } finally {
      await broker.down();
    }
  }, 30_000);
});
