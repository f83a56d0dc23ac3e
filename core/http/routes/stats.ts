import { Type } from '@sinclair/typebox';
import { dateFormat } from '../../clock.js';
import { STAFF, type RouteSpec } from '../../types.js';
import type { CoreRouteDeps } from './deps.js';

/** YYYY-MM-DD of an instant in a time zone. */
function dayIn(ms: number, timeZone: string): string {
  return dateFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
}

export function statsRoutes(d: CoreRouteDeps): RouteSpec[] {
  return [
    {
      method: 'GET', path: '/stats/energy', roles: STAFF,
      summary: 'Energy delivered and sessions per day (site time zone), oldest first, for the dashboard trend',
      query: Type.Object({ days: Type.Integer({ minimum: 1, maximum: 366, default: 14 }) }),
      handler: async ({ query }: { query: { days: number } }) => {
        const tz = d.config.site.timezone;
        const now = d.clock.nowMs();
        const days: string[] = [];
        for (let i = query.days - 1; i >= 0; i--) days.push(dayIn(now - i * 86_400_000, tz));
        // Two extra days of margin cover any time-zone offset; the day buckets decide.
        const since = new Date(now - (query.days + 2) * 86_400_000).toISOString();
        const rows = await d.db('transactions').where('started_at', '>=', since).select('started_at', 'energy_wh');
        const buckets = new Map(days.map((day) => [day, { day, energyWh: 0, sessions: 0 }]));
        for (const r of rows as Array<{ started_at: string; energy_wh: number | null }>) {
          const b = buckets.get(dayIn(Date.parse(r.started_at), tz));
          if (!b) continue;
          b.sessions += 1;
          b.energyWh += Number(r.energy_wh ?? 0);
        }
        return [...buckets.values()];
      },
    },
  ];
}
