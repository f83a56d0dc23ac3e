import { Type, type TSchema } from '@sinclair/typebox';
import type { Knex } from 'knex';
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import { STAFF, type RouteSpec } from '../../core/types.js';
import type { MeterConfig } from './config.js';
import type { MeterPoller } from './poller.js';
import { history, type Resolution } from './store.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const MeterViewSchema = Type.Object({
  id: Type.String(),
  model: Type.String(),
  role: Type.Union([Type.Literal('grid'), Type.Literal('charger')]),
  chargerId: Type.Union([Type.String(), Type.Null()]),
  connectorId: Nullable(Type.Integer()),
  online: Type.Boolean(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  reading: Type.Union([Type.Null(), Type.Object({
    at: Type.String(),
    powerW: Nullable(Type.Number()),
    energyImportWh: Nullable(Type.Number()),
    energyExportWh: Nullable(Type.Number()),
    voltageV: Type.Array(Type.Number()),
    currentA: Type.Array(Type.Number()),
    frequencyHz: Nullable(Type.Number()),
    powerFactor: Nullable(Type.Number()),
  })]),
});

const ISO_TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+ -]\\d{2}:?\\d{2})$';
const IsoTime = Type.String({ pattern: ISO_TIME, description: 'an ISO 8601 time with offset, like 2024-05-01T00:00:00Z' });

export interface RouteDeps {
  meters: readonly MeterConfig[];
  pollers: Map<string, MeterPoller>;
  db: Knex;
  clock: Clock;
}

function parseTime(field: string, text: string | undefined, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  // A "+" in a query string arrives as a space.
  const ms = Date.parse(text.replace(' ', '+'));
  if (Number.isNaN(ms)) throw ApiError.badRequest([{ field, message: `expected an ISO 8601 time with offset, got "${text}"` }]);
  return ms;
}

export function meterRoutes(d: RouteDeps): RouteSpec[] {
  const view = (m: MeterConfig) => {
    const p = d.pollers.get(m.id);
    const r = p?.reading ?? null;
    return {
      id: m.id, model: m.model, role: m.role,
      chargerId: m.chargerId ?? null, connectorId: m.connectorId ?? null,
      online: p?.online ?? false, lastError: p?.lastError ?? null,
      reading: r && {
        at: r.at, powerW: r.powerW ?? null, energyImportWh: r.energyImportWh ?? null, energyExportWh: r.energyExportWh ?? null,
        voltageV: r.voltageV ?? [], currentA: r.currentA ?? [], frequencyHz: r.frequencyHz ?? null, powerFactor: r.powerFactor ?? null,
      },
    };
  };
  return [
    {
      method: 'GET', path: '/meters', roles: STAFF,
      summary: 'Configured Modbus meters with their latest reading and whether they answer',
      response: Type.Array(MeterViewSchema),
      handler: () => d.meters.map(view),
    },
    {
      method: 'GET', path: '/meters/{id}/history', roles: STAFF,
      summary: 'Power and import energy of one meter over time; from defaults to 24 h before to, to to now; resolution defaults to minute for up to 2 days, else hour',
      params: Type.Object({ id: Type.String({ minLength: 1 }) }),
      query: Type.Object({
        from: Type.Optional(IsoTime),
        to: Type.Optional(IsoTime),
        resolution: Type.Optional(Type.Union([Type.Literal('raw'), Type.Literal('minute'), Type.Literal('hour')])),
      }),
      response: Type.Array(Type.Object({ at: Type.String(), powerW: Nullable(Type.Number()), energyImportWh: Nullable(Type.Number()) })),
      handler: async ({ params, query }: { params: { id: string }; query: { from?: string; to?: string; resolution?: Resolution } }) => {
        if (!d.meters.some((m) => m.id === params.id)) throw ApiError.notFound(`meter "${params.id}"`);
        const toMs = parseTime('to', query.to, d.clock.nowMs());
        const fromMs = parseTime('from', query.from, toMs - 24 * 3_600_000);
        if (fromMs >= toMs) throw ApiError.badRequest([{ field: 'from', message: `expected a time before to (${new Date(toMs).toISOString()}), got "${query.from}"` }]);
        const resolution = query.resolution ?? (toMs - fromMs <= 2 * 24 * 3_600_000 ? 'minute' : 'hour');
        return history(d.db, params.id, new Date(fromMs).toISOString(), new Date(toMs).toISOString(), resolution);
      },
    },
  ];
}
