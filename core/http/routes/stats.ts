import { Type } from '@sinclair/typebox';
import { dateFormat } from '../../clock.js';
import { STAFF, type RouteSpec } from '../../types.js';
import type { CoreRouteDeps } from './deps.js';

/** YYYY-MM-DD of an instant in a time zone. */
function dayIn(ms: number, timeZone: string): string {
  return dateFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
}

const QUARTER_HOUR = 900_000;

/**
 * The first instant of the local day after the one ms falls on. Every zone's offset is a whole number of
 * quarter hours, so a local day starts on a quarter hour in UTC, too: a search over quarter hours finds it
 * with a handful of formatter calls instead of one per row.
 */
export function nextDayStart(ms: number, timeZone: string): number {
  const day = dayIn(ms, timeZone);
  let lo = Math.floor(ms / QUARTER_HOUR) * QUARTER_HOUR;
  // No local day lasts 27 h (25 h at most, on a change back from summer time).
  let hi = lo + 108 * QUARTER_HOUR;
  while (hi - lo > QUARTER_HOUR) {
    const mid = lo + Math.floor((hi - lo) / QUARTER_HOUR / 2) * QUARTER_HOUR;
    if (dayIn(mid, timeZone) === day) lo = mid;
    else hi = mid;
  }
  return hi;
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
        // In start order (the started_at index), so the day changes only at a local midnight, found once per day.
        const rows = await d.db('transactions').where('started_at', '>=', since).orderBy('started_at').select('started_at', 'energy_wh');
        const buckets = new Map(days.map((day) => [day, { day, energyWh: 0, sessions: 0 }]));
        let b: { energyWh: number; sessions: number } | undefined;
        let dayEndMs = -Infinity;
        let prevMs = -Infinity;
        for (const r of rows as Array<{ started_at: string; energy_wh: number | null }>) {
          const ms = Date.parse(r.started_at);
          // A time written with another offset can sort out of place: it gets its own day looked up.
          if (ms >= dayEndMs || ms < prevMs) {
            b = buckets.get(dayIn(ms, tz));
            dayEndMs = nextDayStart(ms, tz);
          }
          prevMs = ms;
          if (!b) continue;
          b.sessions += 1;
          b.energyWh += Number(r.energy_wh ?? 0);
        }
        return [...buckets.values()];
      },
    },
  ];
}
