import { definePlugin } from '../../core/plugin.js';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../../core/errors.js';
import { ROLES, STAFF } from '../../core/types.js';
import { LoadBalancingConfigSchema, PrioritiesSchema, validate, type Priority } from './config.js';
import { createController } from './controller.js';
import { createHistory } from './history.js';
import { migrations } from './migrations.js';
import { createSettings, type CircuitLimits } from './settings.js';

/** Refreshes session limits before they expire, notices stale meters and rotates turns. */
const TICK_MS = 5_000;
/** Who may change limits and priorities on the Load page: those who set the site up. */
const SETTERS = ['admin', 'installer'] as const;
const CircuitParam = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 64 }) });

export default definePlugin({
  manifest: {
    name: 'loadbalancing',
    version: '1.0.0',
    summary: 'Shares the site\'s supply fairly among the cars over OCPP Smart Charging, under every fuse, with a failsafe when the box is gone',
    config: LoadBalancingConfigSchema,
    validate,
  },
  migrations,
  register(ctx) {
    const settings = createSettings(ctx.db, ctx.core.clock, ctx.config);
    const history = createHistory(ctx.db, ctx.core.clock, ctx.log);
    const lb = createController(ctx, settings, history);
    const mine = (chargerId: string) => lb.managed(chargerId);
    ctx.on('charger.booted', (e) => { if (mine(e.chargerId) && e.status === 'Accepted') void lb.configure(e.chargerId); });
    // After an appliance restart chargers reconnect without booting: they get their failsafe again then.
    ctx.on('charger.connected', (e) => { if (mine(e.chargerId)) setTimeout(() => void lb.configure(e.chargerId), 1000).unref(); });
    ctx.on('charger.disconnected', (e) => { if (mine(e.chargerId)) lb.disconnected(e.chargerId); });
    ctx.on('connector.status', (e) => { if (mine(e.chargerId)) lb.learn(e.chargerId, e.connectorId); });
    ctx.on('session.started', (e) => lb.started({ ...e, accepted: e.idTagInfo.status === 'Accepted' }));
    ctx.on('session.stopped', (e) => lb.stopped(e));
    ctx.on('meter.sampled', (s) => {
      if (s.source === 'ocpp' && s.chargerId && s.connectorId && s.currentA) lb.sampled(s.chargerId, s.connectorId, s.currentA);
      else if (s.source === 'modbus' && s.meterId) lb.metered(s.meterId, s.currentA, s.powerW);
    });
    // A meter declared unreachable is not trusted at once, without waiting for meterStaleAfter.
    ctx.on('meter.unreachable', (e) => lb.meterLost(e.meterId));
    ctx.every('tick', TICK_MS, () => { lb.tick(); lb.record(); });
    ctx.route({
      method: 'GET', path: '/loadbalancing', roles: STAFF,
      summary: 'Each circuit with its limit, room and allocated current per phase, its meter, and per connector its limit, measured draw and state',
      handler: () => lb.view(),
    });
    ctx.route({
      method: 'GET', path: '/loadbalancing/history', roles: STAFF,
      summary: 'The load chart: per circuit its limit, allocated and measured current (most loaded phase), per connector its limit and draw; a point every 30 s, up to 6 h',
      query: Type.Object({ hours: Type.Number({ minimum: 0.1, maximum: 6, default: 6 }) }),
      handler: ({ query }) => history.since(ctx.core.clock.nowMs() - (query as { hours: number }).hours * 3600_000),
    });
    ctx.route({
      method: 'PUT', path: '/loadbalancing/circuits/{id}', roles: [...SETTERS],
      summary: 'Changes a circuit\'s limits (kept across restarts, over the site config\'s); every charger below at failsafeCurrent must still fit',
      params: CircuitParam,
      body: Type.Object({
        maxCurrent: Type.Number({ minimum: 1, maximum: 2000, description: 'A per phase' }),
        maxPower: Type.Union([Type.Number({ minimum: 100, maximum: 10_000_000 }), Type.Null()], { default: null, description: 'W in total, or null for none' }),
      }, { additionalProperties: false }),
      handler: async ({ params, payload, principal }) => {
        const { id } = params as { id: string };
        const want = payload as CircuitLimits;
        const before = settings.configured(id);
        await settings.setLimits(id, want, principal!.username);
        await ctx.core.audit.record(principal!.username, 'loadbalancing.limits', id, { ...want, configured: { maxCurrent: before?.maxCurrent, maxPower: before?.maxPower ?? null } });
        lb.limitsChanged();
        return lb.view();
      },
    });
    ctx.route({
      method: 'DELETE', path: '/loadbalancing/circuits/{id}', roles: [...SETTERS],
      summary: 'Returns a circuit to the limits of the site config',
      params: CircuitParam,
      handler: async ({ params, principal }) => {
        const { id } = params as { id: string };
        if (await settings.resetLimits(id)) await ctx.core.audit.record(principal!.username, 'loadbalancing.limits-reset', id, {});
        lb.limitsChanged();
        return lb.view();
      },
    });
    ctx.route({
      method: 'PUT', path: '/loadbalancing/priorities', roles: [...SETTERS],
      summary: 'Sets who is served first (kept across restarts, over the site config\'s); running sessions are ranked again at once',
      body: Type.Object({ priorities: PrioritiesSchema }, { additionalProperties: false }),
      handler: async ({ payload, principal }) => {
        const { priorities } = payload as { priorities: Priority[] };
        await settings.setPriorities(priorities, principal!.username);
        await ctx.core.audit.record(principal!.username, 'loadbalancing.priorities', 'priorities', { count: priorities.length });
        await lb.prioritiesChanged();
        return lb.view();
      },
    });
    ctx.route({
      method: 'DELETE', path: '/loadbalancing/priorities', roles: [...SETTERS],
      summary: 'Returns to the priorities of the site config',
      handler: async ({ principal }) => {
        await settings.resetPriorities();
        await ctx.core.audit.record(principal!.username, 'loadbalancing.priorities-reset', 'priorities', {});
        await lb.prioritiesChanged();
        return lb.view();
      },
    });
    ctx.page({ path: 'load', title: 'Load', component: 'LoadPage', roles: STAFF, icon: '⚡' });
    ctx.route({
      method: 'POST', path: '/loadbalancing/boost', roles: ROLES.filter((r) => r !== 'viewer'),
      summary: 'Serves a running session first until it ends (its driver, or staff who may act on chargers)',
      body: Type.Object({
        chargerId: Type.String({ minLength: 1, maxLength: 64 }),
        connectorId: Type.Integer({ minimum: 1, maximum: 16 }),
      }, { additionalProperties: false }),
      handler: async ({ payload, principal }) => {
        const { chargerId, connectorId } = payload as { chargerId: string; connectorId: number };
        const c = lb.session(chargerId, connectorId);
        // A driver may boost only their own session; viewers may not act at all.
        if (!c || (principal!.role === 'driver' && c.tx!.userId !== principal!.userId)) throw ApiError.notFound(`a running session at ${chargerId} connector ${connectorId}`);
        lb.boost(chargerId, connectorId);
        await ctx.core.audit.record(principal!.username, 'loadbalancing.boost', `${chargerId}:${connectorId}`, { transactionId: c.tx!.id });
        return { chargerId, connectorId, transactionId: c.tx!.id, boosted: true };
      },
    });
    return {
      async start() {
        await settings.load();
        await history.load();
        lb.limitsChanged();
        await lb.start();
      },
      async stop() {
        await lb.stop();
        await history.flushed();
      },
    };
  },
});
