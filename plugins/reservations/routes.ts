import { Type } from '@sinclair/typebox';
import { ApiError } from '../../core/errors.js';
import { pageAnswer, pageQuery } from '../../core/http/paging.js';
import { withChecks } from '../../core/http/validate.js';
import type { CoreServices } from '../../core/services.js';
import { ROLES, STAFF, type Principal, type Role, type RouteSpec } from '../../core/types.js';
import { isDriver } from './cards.js';
import type { ReservationsConfig } from './config.js';
import type { Holds } from './holds.js';
import type { QueueStore } from './queue-store.js';
import type { ReservationService, ReserveInput } from './reserve.js';
import { RESERVATION_STATES, type ReservationStore } from './store.js';
import type { Waitlist } from './waitlist.js';

/** Who may make and cancel reservations and queue places (admin always may; viewers only read). */
export const ACTORS: Role[] = ['driver', 'installer', 'technician'];

export interface RouteDeps {
  core: CoreServices;
  config: ReservationsConfig;
  store: ReservationStore;
  service: ReservationService;
  queue: QueueStore;
  waitlist: Waitlist;
  holds: Holds;
}

const IdParam = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const ChargerId = Type.String({ minLength: 1, maxLength: 64 });

/** Drivers see their own rows only; staff may filter by driver. */
const ownerFilter = (principal: Principal | null, userId: number | undefined): number | undefined =>
  isDriver(principal) ? principal!.userId : userId;

/** /api/reservations and /api/reservations/queue. */
export function reservationRoutes(d: RouteDeps): RouteSpec[] {
  return [
    {
      method: 'GET', path: '/reservations', roles: [...ROLES], summary: 'Reservations, newest first; drivers see only their own. Paged: ?limit= (default 100, at most 1000), ?offset=; the total in X-Total-Count',
      query: Type.Object({
        userId: Type.Optional(Type.Integer({ minimum: 1 })),
        chargerId: Type.Optional(ChargerId),
        state: Type.Optional(Type.Union(RESERVATION_STATES.map((s) => Type.Literal(s)))),
        ...pageQuery(),
      }),
      handler: async ({ query, principal }, h) => {
        const filter = { ...query, userId: ownerFilter(principal, query.userId) };
        const [rows, total] = await Promise.all([d.store.list(filter), d.store.count(filter)]);
        return pageAnswer(h, rows, total);
      },
    },
    withChecks<ReserveInput>({
      method: 'POST', path: '/reservations', roles: ACTORS,
      summary: 'Reserve a connector (held by the charger, or enforced by the appliance for chargers that take no reservations); drivers use their own cards; every bad field is named in one 400',
      body: Type.Object({
        chargerId: ChargerId,
        connectorId: Type.Optional(Type.Integer({ minimum: 0, maximum: 99 })),
        idTag: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })),
        userId: Type.Optional(Type.Integer({ minimum: 1 })),
        expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
      }, { additionalProperties: false }),
      handler: async ({ payload, principal }, h) => h.response(await d.service.reserve(payload, principal!)).code(201),
    }, ({ payload, principal }) => (
      // Staff reserve for someone: the card or the driver must be named (drivers get their own card).
      !isDriver(principal) && payload.idTag === undefined && payload.userId === undefined
        ? [{ field: 'idTag', message: 'name the card (idTag) or the driver (userId)' }]
        : []
    )),
    {
      method: 'GET', path: '/reservations/settings', roles: [...ROLES], summary: 'The site\'s reservation rules, for the pages: durations in ms',
      handler: () => ({
        maxActivePerUser: d.config.maxActivePerUser, maxDurationMs: d.config.maxDuration, queueHoldMs: d.config.queueHold,
        connectorZero: d.config.connectorZero,
      }),
    },
    {
      method: 'GET', path: '/reservations/holds', roles: [...ROLES],
      summary: 'Connectors held now (reservations and waitlist offers), without whose they are; `mine` marks the caller\'s own',
      handler: async ({ principal }) => (await d.holds.at()).map((h) => ({
        chargerId: h.chargerId, connectorId: h.connectorId, kind: h.kind, until: h.until, mine: h.userId === principal!.userId,
      })),
    },
    {
      method: 'GET', path: '/reservations/no-shows', roles: STAFF, summary: 'Per driver: reservations used, expired unused (no-shows) and cancelled',
      handler: async () => {
        const accounts = new Map((await d.core.accounts.list()).map((a) => [a.id, a]));
        return (await d.store.outcomes()).map((o) => ({
          ...o, username: o.userId === null ? null : (accounts.get(o.userId)?.username ?? null),
          name: o.userId === null ? null : (accounts.get(o.userId)?.name ?? null),
        }));
      },
    },
    {
      method: 'GET', path: '/reservations/{id}', roles: [...ROLES], summary: 'One reservation; drivers only their own',
      params: IdParam,
      handler: async ({ params, principal }) => {
        const r = await d.store.get(params.id);
        if (!r || (isDriver(principal) && r.userId !== principal!.userId)) throw ApiError.notFound(`reservation ${params.id}`);
        return r;
      },
    },
    {
      method: 'DELETE', path: '/reservations/{id}', roles: ACTORS, summary: 'Cancel an active reservation (the charger is told); answers it with state cancelled',
      params: IdParam,
      handler: ({ params, principal }) => d.service.cancel(params.id, principal!),
    },
    {
      method: 'GET', path: '/reservations/queue', roles: [...ROLES],
      summary: 'The waitlist, first in line first (?all=true: ended entries too, newest first); drivers see only their own entries, with their position. Paged: ?limit= (default 100, at most 1000), ?offset=; the total in X-Total-Count',
      query: Type.Object({ all: Type.Boolean({ default: false }), userId: Type.Optional(Type.Integer({ minimum: 1 })), ...pageQuery() }),
      handler: async ({ query, principal }, h) => {
        const filter = { ...query, userId: ownerFilter(principal, query.userId) };
        const [rows, total] = await Promise.all([d.queue.list(filter), d.queue.count(filter)]);
        return pageAnswer(h, rows, total);
      },
    },
    {
      method: 'POST', path: '/reservations/queue', roles: ACTORS,
      summary: 'Join the waitlist for one charger or (no chargerId) any charger of the site; staff may add a driver (userId)',
      body: Type.Object({
        chargerId: Type.Optional(ChargerId),
        userId: Type.Optional(Type.Integer({ minimum: 1 })),
      }, { additionalProperties: false }),
      handler: async ({ payload, principal }, h) => h.response(await d.waitlist.join(payload, principal!)).code(201),
    },
    {
      method: 'DELETE', path: '/reservations/queue/{id}', roles: ACTORS, summary: 'Leave the waitlist (an offered connector goes to the next in line)',
      params: IdParam,
      handler: ({ params, principal }) => d.waitlist.leave(params.id, principal!),
    },
  ];
}
