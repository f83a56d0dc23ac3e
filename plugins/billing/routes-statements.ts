import { Type } from '@sinclair/typebox';
import { ApiError } from '../../core/errors.js';
import type { CoreServices } from '../../core/services.js';
import { ROLES, STAFF, type Principal, type RouteSpec } from '../../core/types.js';
import type { Budgets } from './budgets.js';
import type { Costs } from './costs.js';
import { monthExport } from './month-export.js';
import { statementCsv, statementHtml } from './render.js';
import { statementFor, type StatementDeps } from './statements.js';
import { periodOf } from './time.js';

export interface StatementRouteDeps {
  core: CoreServices;
  costs: Costs;
  budgets: Budgets;
  statements: StatementDeps;
}

const Period = Type.String({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$', description: 'a month like 2026-03' });

export function statementRoutes(d: StatementRouteDeps): RouteSpec[] {
  const thisMonth = () => periodOf(d.core.clock.nowMs(), d.core.site.timezone);
  const fileName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

  return [
    {
      method: 'GET', path: '/statements', roles: [...ROLES], queryToken: true,
      summary: 'A user\'s statement for a month (default: this month, site time zone) as JSON, CSV or printable HTML; drivers get their own',
      query: Type.Object({
        userId: Type.Optional(Type.Integer({ minimum: 1 })),
        period: Type.Optional(Period),
        format: Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('html')], { default: 'json' }),
      }),
      handler: async ({ query, principal }, h) => {
        const me = principal as Principal;
        const userId: number = query.userId ?? me.userId;
        if (me.role === 'driver' && userId !== me.userId) throw new ApiError(403, 'drivers may only read their own statement');
        const user = await d.core.accounts.get(userId);
        if (!user) throw ApiError.notFound(`user ${userId}`);
        const period: string = query.period ?? thisMonth();
        const st = await statementFor(d.statements, user, userId, period);
        const base = `statement-${fileName(user.username)}-${period}`;
        if (query.format === 'csv') {
          return h.response(statementCsv(st)).type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${base}.csv"`);
        }
        if (query.format === 'html') {
          return h.response(statementHtml(st, d.core.site.name)).type('text/html; charset=utf-8').header('content-disposition', `inline; filename="${base}.html"`);
        }
        return st;
      },
    },
    {
      method: 'GET', path: '/statements/export', roles: STAFF, queryToken: true,
      summary: 'Every session of a month with its user, a total per user and the site totals (CSV for the treasurer)',
      query: Type.Object({
        period: Type.Optional(Period),
        format: Type.Union([Type.Literal('csv'), Type.Literal('json')], { default: 'csv' }),
      }),
      handler: async ({ query }, h) => {
        const period: string = query.period ?? thisMonth();
        const stream = await monthExport(d.statements, await d.core.accounts.list(), period, query.format);
        if (query.format === 'json') return h.response(stream).type('application/json; charset=utf-8');
        return h.response(stream).type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="sessions-${period}.csv"`);
      },
    },
    {
      method: 'GET', path: '/costs/{transactionId}', roles: [...ROLES],
      summary: 'How a session was priced, line by line (an estimate while it runs); drivers see their own',
      params: Type.Object({ transactionId: Type.Integer({ minimum: 1 }) }),
      handler: async ({ params, principal }) => {
        const me = principal as Principal;
        const tx = await d.costs.tx(params.transactionId);
        if (!tx || (me.role === 'driver' && tx.userId !== me.userId)) throw ApiError.notFound(`transaction ${params.transactionId}`);
        const priced = await d.costs.price(tx);
        if (!priced) throw ApiError.notFound(`a tariff for transaction ${params.transactionId}`);
        return priced;
      },
    },
    {
      method: 'GET', path: '/budgets', roles: [...ROLES],
      summary: 'Monthly energy budgets and their use this month; drivers see the ones that concern them',
      handler: async ({ principal }) => {
        const me = principal as Principal;
        return me.role === 'driver' ? d.budgets.of(me.userId) : d.budgets.all();
      },
    },
  ];
}
