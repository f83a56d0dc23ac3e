import { definePlugin } from '../../core/plugin.js';
import { ROLES, STAFF } from '../../core/types.js';
import { resolveTariff } from './assign.js';
import { Budgets } from './budgets.js';
import { BillingConfigSchema, validate } from './config.js';
import { Costs, type PricedSession } from './costs.js';
import { migrations } from './migrations.js';
import { pricesAt, priceText } from './price-text.js';
import { tariffRoutes } from './routes-tariffs.js';
import { statementRoutes } from './routes-statements.js';
import type { StatementDeps } from './statements.js';
import { Tariffs } from './tariffs.js';
import { tariffsSitePart } from './site-part.js';
import type { UsersApi } from '../users/api.js';
import type { BillingApi } from './api.js';

export default definePlugin({
  manifest: {
    name: 'billing',
    version: '1.0.0',
    summary: 'Tariffs, exact session costs, monthly statements and exports, energy budgets',
    needs: ['users'],
    config: BillingConfigSchema,
    validate,
  },
  migrations,
  register(ctx) {
    const users = () => ctx.use<UsersApi>('users');
    const tariffs = new Tariffs(ctx.db, ctx.core.clock);
    ctx.sitePart(tariffsSitePart({ tariffs, core: ctx.core, currency: ctx.config.currency, vatPct: ctx.config.vatPct }));
    const costs = new Costs({ db: ctx.db, core: ctx.core, tariffs, users, idleBelowW: ctx.config.idleBelowW });
    const budgets = new Budgets({ db: ctx.db, core: ctx.core, budgets: ctx.config.budgets, users });
    const statements: StatementDeps = {
      transactions: ctx.core.transactions, costs, timezone: ctx.core.site.timezone, currency: ctx.config.currency, now: () => ctx.core.clock.iso(),
    };

    ctx.on('session.started', (e) => costs.started(e));
    ctx.on('session.stopped', (e) => costs.stopped(e.transactionId));
    // Readings of an open session are priced when it stops; a stopped one's late readings price it again.
    const open = new Set<number>();
    ctx.on('session.started', (e) => { open.add(e.transactionId); });
    ctx.on('session.stopped', (e) => { open.delete(e.transactionId); });
    ctx.on('meter.sampled', async (e) => {
      if (e.transactionId !== undefined && e.source === 'ocpp' && !open.has(e.transactionId)) await costs.lateReading(e.transactionId);
    });

    const answer = (priced: PricedSession) => {
      const { amount, currency } = priced.breakdown;
      return priced.estimate ? { amount, currency, estimate: true } : { amount, currency };
    };
    ctx.decide('cost', async (t) => {
      const tx = await costs.tx(t.id);
      const priced = tx ? await costs.price(tx) : null;
      return priced ? answer(priced) : undefined;
    });
    // A page of the session list: the stored costs at once; the core asks `cost` for the rest (running sessions).
    ctx.decide('costs', async (list) => {
      return costs.amounts(list.filter((t) => t.stoppedAt).map((t) => t.id));
    });

    // A used-up budget narrows an accepted card to Blocked, whichever plugin accepted it.
    ctx.decide('restrict', async (req) => {
      if (req.context === 'StopTransaction') return undefined;
      return (await budgets.exceeded(req.answer.userId ?? null, req.idTag)) ? { ...req.answer, status: 'Blocked' } : undefined;
    });

    const push = ctx.config.priceDataTransfer;
    if (push) {
      // Shows the price on chargers that display vendor data text; others answer UnknownVendorId, which is fine.
      ctx.on('token.presented', async (e) => {
        if (e.context !== 'Authorize' || e.idTagInfo.status !== 'Accepted') return;
        const tag = await users()?.findTag(e.idTag).catch(() => null);
        const best = resolveTariff(await tariffs.candidates(), {
          chargerId: e.chargerId, connectorId: e.connectorId, userId: tag?.userId ?? null,
          groupKeys: [e.idTag.toLowerCase(), ...(e.idTagInfo.parentIdTag ? [e.idTagInfo.parentIdTag.toLowerCase()] : [])],
        });
        if (!best) return;
        const text = priceText(best.tariff.def, pricesAt(best.tariff.def, ctx.core.clock.nowMs(), ctx.core.site.timezone));
        // JSON text, as the chargers that show it read it, whatever their version.
        await ctx.core.chargers.commands.dataTransfer(e.chargerId, {
          vendorId: push.vendorId, messageId: push.messageId, data: JSON.stringify({ idTag: e.idTag, text }),
        }, { actor: 'plugin:billing', timeoutMs: 10_000 }).catch((err: unknown) => ctx.log.debug(`price text to ${e.chargerId} failed: ${String(err)}`));
      });
    }

    for (const spec of [
      ...tariffRoutes({ core: ctx.core, config: ctx.config, tariffs, users }),
      ...statementRoutes({ core: ctx.core, costs, budgets, statements }),
    ]) ctx.route(spec);

    ctx.page({ path: 'tariffs', title: 'Tariffs', component: 'TariffsPage', roles: STAFF, icon: '€' });
    ctx.page({ path: 'statements', title: 'Statements', component: 'StatementsPage', roles: [...ROLES], icon: '≡' });

    ctx.provide<BillingApi>({
      budgetExceeded: (userId, idTag) => budgets.exceeded(userId, idTag),
      budgetStatus: (userId, idTag) => budgets.of(userId, idTag),
    });

    return {
      async start() {
        // Sessions that were running before a restart are still open.
        for (const t of await ctx.core.transactions.open()) open.add(t.id);
      },
    };
  },
});
