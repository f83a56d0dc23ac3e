import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../core/plugin.js';
import { changesLocalList } from '../../core/ocpp/commands/authorization.js';
import { Duration, Strict } from '../../core/schema.js';
import { STAFF } from '../../core/types.js';
import type { UsersApi } from './api.js';
import { authorizer } from './authorize.js';
import { LocalLists } from './local-list.js';
import { migrations } from './migrations.js';
import { userRoutes } from './routes-users.js';
import { tagRoutes } from './routes-tags.js';
import { TagStore } from './tag-store.js';
import { UnknownTags } from './unknown-tags.js';

// Staff read users and tags (admin sees every page anyway); the pages show edit controls to admins only.
const OPERATORS = STAFF.filter((r) => r !== 'admin');

export default definePlugin({
  manifest: {
    name: 'users',
    version: '1.0.0',
    summary: 'Operators, drivers, RFID tags, access per charger, local authorization lists',
    config: Strict({
      concurrentTx: Type.Union([Type.Literal('refuse'), Type.Literal('allow')], { default: 'refuse', description: 'A card already charging at another charger: refuse (ConcurrentTx) or allow.' }),
      localList: Strict({
        enabled: Type.Boolean({ default: true, description: 'Keep chargers\' Local Authorization Lists in sync, so known cards work while a charger is offline (chargers without one are detected and skipped).' }),
        maxEntries: Type.Integer({ minimum: 1, maximum: 100_000, default: 500, description: 'At most this many cards per charger (the charger\'s own LocalAuthListMaxLength may lower it).' }),
      }, { default: {}, description: 'Cards sent to the chargers\' own lists.' }),
      unknownTagRetention: Duration({ default: '30d', description: 'Unknown cards are forgotten this long after they were last presented, like 30d.' }),
    }),
  },
  migrations,
  register(ctx) {
    const unknown = new UnknownTags(ctx.db, ctx.core);
    // Called after each committed tag change, once `lists` below exists.
    const tags = new TagStore(ctx.db, ctx.core, (change) => {
      void lists.changed(change).catch((err: unknown) => ctx.log.error(`local list update failed: ${String(err)}`));
    });
    const lists = new LocalLists({ db: ctx.db, core: ctx.core, log: ctx.log, tags, config: ctx.config.localList });

    ctx.decide('authorize', authorizer({ transactions: ctx.core.transactions, tags, unknown, concurrentTx: ctx.config.concurrentTx }));

    ctx.on('charger.booted', (e) => {
      if (e.status === 'Accepted') lists.booted(e.chargerId);
    });
    ctx.on('charger.connected', (e) => lists.connected(e.chargerId));
    ctx.on('charger.disconnected', (e) => lists.disconnected(e.chargerId));
    ctx.on('command.sent', (e) => {
      if (changesLocalList(e.action) && e.actor !== 'plugin:users' && !e.error) lists.externalListChange(e.chargerId);
    });
    ctx.on('charger.deleted', (e) => lists.forget(e.chargerId));

    for (const spec of [...userRoutes({ core: ctx.core, tags }), ...tagRoutes({ core: ctx.core, tags, unknown, lists })]) ctx.route(spec);

    ctx.page({ path: 'users', title: 'Users', component: 'UsersPage', roles: OPERATORS, icon: 'user' });
    ctx.page({ path: 'tags', title: 'RFID tags', component: 'TagsPage', roles: OPERATORS, icon: '▭' });
    ctx.page({ path: 'audit', title: 'Audit log', component: 'AuditPage', roles: ['installer', 'viewer'], icon: 'list' });
    ctx.page({ path: 'my-tags', title: 'My cards', component: 'MyTagsPage', roles: ['driver'], icon: '▭' });

    ctx.every('local-list-retry', 5 * 60_000, () => lists.retry());
    ctx.every('unknown-tag-retention', 60 * 60_000, async () => {
      const dropped = await unknown.prune(ctx.config.unknownTagRetention);
      if (dropped) ctx.log.info(`forgot ${dropped} unknown card(s) not seen for ${ctx.config.unknownTagRetention / 86_400_000} days`);
    });

    ctx.provide<UsersApi>({
      findTag: (idTag) => tags.get(idTag),
      tagsOf: (userId) => tags.list({ userId }),
    });

    return {
      async stop() {
        await lists.stop();
      },
    };
  },
});
