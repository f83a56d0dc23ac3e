import type { Knex } from 'knex';
import type { Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/types.js';
import type { LoadHistory } from './view.js';

/** The load chart: a point per circuit and per charging connector every 30 s, for 6 hours. */
export const HISTORY_EVERY_MS = 30_000;
const HISTORY_MS = 6 * 3600_000;
/** Old points are deleted this often, not at every write (one DELETE per 10 min instead of one per point). */
const PRUNE_EVERY_MS = 10 * 60_000;

/** One point of a circuit: its most loaded phase, A. */
export interface CircuitPoint { at: number; limit: number; allocated: number; measured: number | null }
export interface ConnectorPoint { at: number; limit: number | null; measured: number | null }

interface PointRow { at: number; series: string; limit_a: number | null; allocated_a: number | null; measured_a: number | null }

// Series are stored under one column: "c:<circuit id>" or "k:<chargerId>:<connectorId>".
const CIRCUIT = 'c:';
const CONNECTOR = 'k:';

/** Keeps the chart's points in memory for the page and in SQLite so a restart does not blank the chart. */
export function createHistory(db: Knex, clock: Clock, log: Logger) {
  const circuits = new Map<string, CircuitPoint[]>();
  const connectors = new Map<string, ConnectorPoint[]>();
  let lastPointAt = 0;
  let prunedAt = 0;
  let writing: Promise<void> = Promise.resolve();

  const push = <T extends { at: number }>(map: Map<string, T[]>, key: string, point: T) => {
    const list = map.get(key) ?? [];
    list.push(point);
    const from = list.findIndex((p) => p.at >= point.at - HISTORY_MS);
    if (from > 0) list.splice(0, from);
    map.set(key, list);
  };

  return {
    /** Reads the last 6 hours back after a restart. */
    async load(): Promise<void> {
      const rows = await db<PointRow>('loadbalancing_points').where('at', '>=', clock.nowMs() - HISTORY_MS).orderBy('at');
      for (const row of rows) {
        // PostgreSQL's driver gives a bigint as a string.
        const r = { ...row, at: Number(row.at) };
        if (r.series.startsWith(CIRCUIT)) {
          push(circuits, r.series.slice(CIRCUIT.length), { at: r.at, limit: r.limit_a ?? 0, allocated: r.allocated_a ?? 0, measured: r.measured_a });
        } else if (r.series.startsWith(CONNECTOR)) {
          push(connectors, r.series.slice(CONNECTOR.length), { at: r.at, limit: r.limit_a, measured: r.measured_a });
        }
      }
      lastPointAt = Number(rows.at(-1)?.at ?? 0);
    },

    /** Whether a new point is due (one every 30 s). */
    due: () => clock.nowMs() - lastPointAt >= HISTORY_EVERY_MS,

    /** Adds one point per circuit and connector, in memory at once and on disk in one statement. */
    add(circuitPoints: Array<[string, CircuitPoint]>, connectorPoints: Array<[string, ConnectorPoint]>): void {
      const now = clock.nowMs();
      lastPointAt = now;
      for (const [id, p] of circuitPoints) push(circuits, id, p);
      for (const [key, p] of connectorPoints) push(connectors, key, p);
      const rows: PointRow[] = [
        ...circuitPoints.map(([id, p]) => ({ at: p.at, series: CIRCUIT + id, limit_a: p.limit, allocated_a: p.allocated, measured_a: p.measured })),
        ...connectorPoints.map(([key, p]) => ({ at: p.at, series: CONNECTOR + key, limit_a: p.limit, allocated_a: null, measured_a: p.measured })),
      ];
      const prune = now - prunedAt >= PRUNE_EVERY_MS;
      if (prune) prunedAt = now;
      // Writes queue behind each other so stop() can wait for the last one; a failed write costs a chart point, nothing else.
      writing = writing.then(async () => {
        if (rows.length) await db.batchInsert('loadbalancing_points', rows, 200);
        if (prune) await db('loadbalancing_points').where('at', '<', now - HISTORY_MS).delete();
      }).catch((e: unknown) => log.warn(`load chart point not stored: ${errorMessage(e)}`));
    },

    /** Whether this connector has points (it keeps getting them, as null, after its session ended). */
    has: (key: string) => connectors.has(key),

    /** The chart's points since `sinceMs`. */
    since(sinceMs: number): LoadHistory {
      const since = <T extends { at: number }>(list: T[]) => list.filter((p) => p.at >= sinceMs).map((p) => ({ ...p, at: new Date(p.at).toISOString() }));
      return {
        every: HISTORY_EVERY_MS / 1000,
        circuits: Object.fromEntries([...circuits].map(([id, list]) => [id, since(list)])),
        connectors: Object.fromEntries([...connectors].map(([id, list]) => [id, since(list)]).filter(([, l]) => (l as unknown[]).length)),
      };
    },

    flushed: () => writing,
  };
}

export type LoadHistoryStore = ReturnType<typeof createHistory>;
