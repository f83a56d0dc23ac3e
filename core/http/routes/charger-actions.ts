import { Type, type TObject } from '@sinclair/typebox';
import { ApiError } from '../../errors.js';
import { LIMITS } from '../../ocpp/limits.js';
import { commandApiError } from '../../ocpp/send-error.js';
import type { RouteSpec } from '../../types.js';
import type { CoreRouteDeps } from './deps.js';

const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const ConnectorId = Type.Integer({ minimum: 1, maximum: LIMITS.maxConnectorId });

type Commands = CoreRouteDeps['chargers']['commands'];
type Options = { actor: string };

interface Action {
  summary: string;
  body: TObject;
  run(c: Commands, chargerId: string, body: Record<string, unknown>, opts: Options): Promise<unknown>;
}

/**
 * The everyday operator actions, by what they do: each charger gets its own OCPP version's command. None of them
 * is installer-only in core/ocpp/command-roles.ts, so technicians may send them as they may the raw commands.
 */
const ACTIONS: Record<string, Action> = {
  reset: {
    summary: 'Restart a charger: hard = at once (1.6 Hard, 2.0.1 Immediate), else once idle (1.6 Soft, 2.0.1 OnIdle); answers { accepted, status }',
    body: Type.Object({ hard: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    run: (c, id, b, opts) => c.reset(id, { hard: b.hard === true }, opts),
  },
  unlock: {
    summary: 'Release the cable of a connector (2.0.1: of that EVSE); answers { unlocked, status } with the charger\'s own status word',
    body: Type.Object({ connectorId: ConnectorId }, { additionalProperties: false }),
    run: (c, id, b, opts) => c.unlock(id, { connectorId: b.connectorId as number }, opts),
  },
  start: {
    summary: 'Start a session remotely for a card, checked like a card at the reader (409 when the site refuses it); answers { accepted, status }',
    // 2.0.1 tokens may be 36 characters; a 1.6 charger's schema refuses more than 20, named as idTag.
    body: Type.Object({ connectorId: ConnectorId, idTag: Type.String({ minLength: 1, maxLength: 36 }) }, { additionalProperties: false }),
    run: (c, id, b, opts) => c.remoteStart(id, { connectorId: b.connectorId as number, idTag: b.idTag as string }, opts),
  },
  stop: {
    summary: 'Stop a running session of this charger by its id (as /api/transactions names it); answers { accepted, status }',
    body: Type.Object({ sessionId: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
    run: (c, id, b, opts) => c.remoteStop(id, { sessionId: b.sessionId as number }, opts),
  },
};

/** POST /api/chargers/{id}/actions/{reset|unlock|start|stop}: audited like the raw command route, with the OCPP action sent. */
export function chargerActionRoutes(d: CoreRouteDeps): RouteSpec[] {
  return Object.entries(ACTIONS).map(([name, a]): RouteSpec => ({
    method: 'POST', path: `/chargers/{id}/actions/${name}`, roles: ['installer', 'technician'], summary: a.summary,
    params: IdParam, body: a.body,
    handler: async ({ params, payload, principal }) => {
      if (!(await d.chargers.row(params.id))) throw ApiError.notFound(`charger ${params.id}`);
      try {
        return await a.run(d.chargers.commands, params.id, (payload ?? {}) as Record<string, unknown>, { actor: principal!.username });
      } catch (err) {
        commandApiError(err);
      }
    },
  }));
}
