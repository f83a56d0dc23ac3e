import { Type } from '@sinclair/typebox';
import { ApiError } from '../../errors.js';
import { countRows, pageAnswer, pageQuery } from '../paging.js';
import { toTransaction, transactionApiView, type TransactionApiView, type TransactionRow } from '../../transactions.js';
import type { TransactionCost } from '../../events.js';
import { ROLES, type Principal, type RouteSpec } from '../../types.js';
import type { CoreRouteDeps } from './deps.js';

/** A transaction as the API shows it (spec section 5). */
export const transactionView = (r: TransactionRow): TransactionApiView => transactionApiView(toTransaction(r));

export function transactionRoutes(d: CoreRouteDeps): RouteSpec[] {
  const withCost = async (rows: TransactionRow[]) => {
    const list = rows.map(transactionView);
    const priced = d.bus.hasDecider('cost');
    // One question for the page, then one per session it left out (running ones, or a plugin that prices one at a time).
    const batch = d.bus.hasDecider('costs') ? (await d.bus.ask('costs', list)) ?? new Map<number, TransactionCost>() : new Map<number, TransactionCost>();
    return Promise.all(list.map(async (t) => ({ ...t, cost: batch.get(t.id) ?? (priced ? (await d.bus.ask('cost', t)) ?? null : null) })));
  };
  const ownOnly = (principal: Principal | null) => principal?.role === 'driver';
  return [
    {
      method: 'GET', path: '/transactions', roles: [...ROLES],
      summary: 'Charging sessions, newest first; drivers see only their own. Paged: ?limit= (default 100, at most 1000), ?offset=; the total in X-Total-Count',
      query: Type.Object({
        chargerId: Type.Optional(Type.String()), idTag: Type.Optional(Type.String()), userId: Type.Optional(Type.Integer()),
        from: Type.Optional(Type.String({ format: 'date-time' })), to: Type.Optional(Type.String({ format: 'date-time' })),
        state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')])),
        ...pageQuery(),
      }),
      handler: async ({ query, principal }, h) => {
        const q = d.db<TransactionRow>('transactions');
        if (query.chargerId) q.where({ charger_id: query.chargerId });
        if (query.idTag) q.whereRaw('lower(id_tag) = ?', [String(query.idTag).toLowerCase()]);
        if (ownOnly(principal)) q.where({ user_id: principal!.userId });
        else if (query.userId !== undefined) q.where({ user_id: query.userId });
        if (query.from) q.where('started_at', '>=', new Date(query.from).toISOString());
        if (query.to) q.where('started_at', '<', new Date(query.to).toISOString());
        if (query.state === 'open') q.whereNull('stopped_at');
        if (query.state === 'closed') q.whereNotNull('stopped_at');
        const [rows, total] = await Promise.all([
          q.clone().orderBy('started_at', 'desc').orderBy('id', 'desc').limit(query.limit).offset(query.offset),
          countRows(q),
        ]);
        return pageAnswer(h, await withCost(rows), total);
      },
    },
    {
      method: 'GET', path: '/transactions/{id}', roles: [...ROLES], summary: 'One session with its meter values',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      handler: async ({ params, principal }) => {
        const row = await d.db<TransactionRow>('transactions').where({ id: params.id }).first();
        if (!row || (ownOnly(principal) && row.user_id !== principal!.userId)) throw ApiError.notFound(`transaction ${params.id}`);
        const [tx] = await withCost([row]);
        const values = await d.readings.ofSession(params.id);
        return { ...tx, meterValues: values };
      },
    },
  ];
}
