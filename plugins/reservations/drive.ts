import { Type } from '@sinclair/typebox';
import { ApiError } from '../../core/errors.js';
import type { TransactionCost } from '../../core/events.js';
import { sendErrorOf } from '../../core/ocpp/send-error.js';
import type { CoreServices } from '../../core/services.js';
import type { Transaction } from '../../core/transactions.js';
import type { PluginContext } from '../../core/plugin.js';
import { ROLES, type Principal, type RouteSpec } from '../../core/types.js';
import { ACTIVE_POWER, ENERGY_REGISTER } from '../../core/readings.js';
import type { UsersApi } from '../users/api.js';
import { cardFor, isDriver } from './cards.js';
import { blockingHold, type Holds } from './holds.js';
import { ACTORS } from './routes.js';
import type { ReservationStore } from './store.js';

export interface DriveDeps {
  core: CoreServices;
  holds: Holds;
  store: ReservationStore;
  users: () => UsersApi;
  ask: PluginContext<unknown>['ask'];
}

/** A driver's running session with its values so far. */
export interface RunningSession {
  id: number;
  chargerId: string;
  connectorId: number;
  idTag: string;
  startedAt: string;
  meterStartWh: number;
  /** Energy delivered so far, Wh (latest energy register reading minus the start). */
  energyWh: number;
  /** Latest power, W, or null before the first reading. */
  powerW: number | null;
  /** Time of the latest reading. */
  sampledAt: string | null;
  /** The price so far (billing's estimate), or null without billing. */
  cost: TransactionCost | null;
}

// Connector states in which a remote start can begin a session.
const STARTABLE = new Set(['Available', 'Preparing', 'Reserved']);

const fail = (err: unknown, chargerId: string, what: string): never => {
  const e = sendErrorOf(err);
  switch (e?.kind) {
    case 'offline': throw ApiError.conflict(`charger ${chargerId} is offline`);
    case 'timeout': throw new ApiError(504, `charger ${chargerId} did not answer the ${what} in time`);
    case 'callerror': throw new ApiError(502, `charger ${chargerId} answered the ${what} with ${e.code}`);
    // The card changed (blocked, expired) between the check above and the send.
    case 'refused': throw ApiError.conflict(e.message);
    // The session ended (or the charger has no name for it) between the check above and the send.
    case 'invalid': throw ApiError.conflict(e.message);
    default: throw err;
  }
};

/** Remote start and stop for drivers, and their running session with live values. */
export function driveRoutes(d: DriveDeps): RouteSpec[] {
  const { core, ask } = d;

  async function latestReadings(txId: number): Promise<{ energyWh: number | null; powerW: number | null; at: string | null }> {
    const [[energy], power] = await Promise.all([
      core.readings.ofSession(txId, { measurands: [ENERGY_REGISTER], carSide: true, totalsOnly: true, latest: 1 }),
      core.readings.ofSession(txId, { measurands: [ACTIVE_POWER], carSide: true, latest: 4 }),
    ]);
    let powerW: number | null = null;
    const last = power[0];
    if (last) {
      const same = power.filter((p) => p.at === last.at);
      const total = same.find((p) => p.phase === '');
      powerW = total ? total.value : same.reduce((s, p) => s + p.value, 0);
    }
    const at = [energy?.at, last?.at].filter((t): t is string => Boolean(t)).sort().pop() ?? null;
    return { energyWh: energy ? energy.value : null, powerW, at };
  }

  // The cost so far, from whichever plugin answers the core's cost decision (billing).
  async function costOf(t: Transaction): Promise<TransactionCost | null> {
    return (await ask('cost', {
      id: t.id, chargerId: t.chargerId, connectorId: t.connectorId, idTag: t.idTag,
      userId: t.userId, startedAt: t.startedAt, stoppedAt: null,
      meterStartWh: t.meterStartWh, meterStopWh: null,
    })) ?? null;
  }

  async function ownOpenTx(transactionId: number, principal: Principal): Promise<Transaction> {
    const tx = await core.transactions.get(transactionId);
    if (!tx || (isDriver(principal) && tx.userId !== principal.userId)) throw ApiError.notFound(`transaction ${transactionId}`);
    if (tx.stoppedAt) throw ApiError.conflict(`transaction ${transactionId} has already stopped`);
    return tx;
  }

  return [
    {
      method: 'GET', path: '/reservations/session', roles: [...ROLES],
      summary: 'The caller\'s running sessions with energy, power and the cost so far (staff: ?userId= for a driver\'s)',
      query: Type.Object({ userId: Type.Optional(Type.Integer({ minimum: 1 })) }),
      handler: async ({ query, principal }): Promise<RunningSession[]> => {
        const userId = isDriver(principal) ? principal!.userId : (query.userId ?? principal!.userId);
        const rows = await core.transactions.openOfUser(userId);
        if (!rows.length) return [];
        return Promise.all(rows.map(async (t) => {
          const r = await latestReadings(t.id);
          const start = t.meterStartWh;
          return {
            id: t.id, chargerId: t.chargerId, connectorId: t.connectorId, idTag: t.idTag,
            startedAt: t.startedAt, meterStartWh: start,
            energyWh: r.energyWh === null ? 0 : Math.max(0, r.energyWh - start),
            powerW: r.powerW, sampledAt: r.at, cost: await costOf(t),
          };
        }));
      },
    },
    {
      method: 'POST', path: '/reservations/start', roles: ACTORS,
      summary: 'Start charging remotely with one of the caller\'s cards, once the charger would accept it',
      body: Type.Object({
        chargerId: Type.String({ minLength: 1, maxLength: 64 }),
        connectorId: Type.Integer({ minimum: 1, maximum: 99 }),
        idTag: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })),
      }, { additionalProperties: false }),
      handler: async ({ payload, principal }) => {
        const { chargerId, connectorId } = payload as { chargerId: string; connectorId: number; idTag?: string };
        const charger = await core.chargers.get(chargerId);
        if (!charger) throw ApiError.badRequest([{ field: 'chargerId', message: `no charger ${chargerId}` }]);
        const connector = charger.connectors.find((c) => c.connectorId === connectorId);
        if (!connector) throw ApiError.badRequest([{ field: 'connectorId', message: `charger ${chargerId} has no connector ${connectorId}` }]);
        // The card of the driver's own reservation here goes first.
        const mine = (await d.store.holding(chargerId)).find((r) => r.userId === principal!.userId && (r.connectorId === connectorId || r.connectorId === 0));
        if (!isDriver(principal) && !payload.idTag) throw ApiError.badRequest([{ field: 'idTag', message: 'name the card to start with' }]);
        const card = await cardFor(d.users(), principal!, core.clock.iso(), { idTag: payload.idTag, chargerId, prefer: mine?.idTag ?? null });
        if (!core.chargers.isOnline(chargerId)) throw ApiError.conflict(`charger ${chargerId} is offline`);
        if (!STARTABLE.has(connector.status)) throw ApiError.conflict(`connector ${connectorId} of ${chargerId} is ${connector.status}`);
        const open = await core.transactions.openOn(chargerId, connectorId);
        if (open) throw ApiError.conflict(`connector ${connectorId} of ${chargerId} already has a running session`);
        const answer = await core.chargers.authorize({ chargerId, connectorId, idTag: card.idTag, context: 'RemoteStart' });
        if (answer.status !== 'Accepted') {
          const holds = await d.holds.at(chargerId);
          const held = blockingHold(holds, await d.holds.statuses(chargerId), connectorId, {
            idTag: card.idTag, userId: answer.userId ?? card.userId, ...(answer.parentIdTag ? { parentIdTag: answer.parentIdTag } : {}),
          });
          throw ApiError.conflict(held
            ? `connector ${connectorId} of ${chargerId} is held for another driver until ${held.until}`
            : `card ${card.idTag} is not accepted at ${chargerId} now (${answer.status})`);
        }
        let reply: { accepted: boolean; status: string };
        try {
          reply = await core.chargers.commands.remoteStart(chargerId, { connectorId, idTag: card.idTag }, { actor: principal!.username });
        } catch (err) {
          return fail(err, chargerId, 'remote start');
        }
        if (!reply.accepted) throw ApiError.conflict(`charger ${chargerId} refused to start (${reply.status})`);
        return { status: 'Accepted', chargerId, connectorId, idTag: card.idTag };
      },
    },
    {
      method: 'POST', path: '/reservations/stop', roles: ACTORS,
      summary: 'Stop a running session remotely; drivers only their own',
      body: Type.Object({ transactionId: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
      handler: async ({ payload, principal }) => {
        const tx = await ownOpenTx(payload.transactionId, principal!);
        const chargerId = tx.chargerId;
        let reply: { accepted: boolean; status: string };
        try {
          reply = await core.chargers.commands.remoteStop(chargerId, { sessionId: tx.id }, { actor: principal!.username });
        } catch (err) {
          return fail(err, chargerId, 'remote stop');
        }
        if (!reply.accepted) throw ApiError.conflict(`charger ${chargerId} refused to stop (${reply.status})`);
        return { status: 'Accepted', transactionId: payload.transactionId };
      },
    },
  ];
}
