import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../core/plugin.js';
import { Strict } from '../../core/schema.js';
import { STAFF } from '../../core/types.js';

/**
 * The smallest complete plugin: a config section, a table, a route, a bus
 * handler, a job and a UI page. Copy this folder to start a new plugin.
 */
export default definePlugin({
  manifest: {
    name: 'blueprint',
    version: '1.0.0',
    summary: 'Skeleton to copy when writing a plugin: counts charger boots',
    config: Strict({
      greeting: Type.String({ default: 'hello', minLength: 1, description: 'Word the boot counter\'s message starts with.' }),
    }),
  },
  migrations: [
    {
      id: '001-boots',
      async up(db) {
        await db.schema.createTable('blueprint_boots', (t) => {
          t.string('charger_id').primary();
          t.integer('count').notNullable();
        });
      },
    },
  ],
  register(ctx) {
    ctx.on('charger.booted', async (e) => {
      await ctx.db('blueprint_boots')
        .insert({ charger_id: e.chargerId, count: 1 })
        .onConflict('charger_id')
        .merge({ count: ctx.db.raw('blueprint_boots.count + 1') });
    });
    ctx.route({
      method: 'GET', path: '/blueprint/hello', roles: STAFF, summary: 'Greets and counts boots per charger',
      handler: async () => ({
        message: `${ctx.config.greeting} from ${ctx.core.site.name}`,
        boots: await ctx.db('blueprint_boots').select('charger_id as chargerId', 'count').orderBy('charger_id'),
      }),
    });
    ctx.page({ path: 'blueprint', title: 'Blueprint', component: 'BlueprintPage', roles: STAFF });
  },
});
