import { definePlugin } from '../../core/plugin.js';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../../core/errors.js';
import { ROLES, STAFF } from '../../core/types.js';
import { LoadBalancingConfigSchema, validate } from './config.js';
import { createController } from './controller.js';

/** Refreshes session limits before they expire, notices stale meters and rotates turns. */
const TICK_MS = 5_000;

export default definePlugin({
  manifest: {
    name: 'loadbalancing',
    version: '1.0.0',
    summary: 'Shares the site\'s supply fairly among the cars over OCPP Smart Charging, under every fuse, with a failsafe when the box is gone',
    config: LoadBalancingConfigSchema,
    validate,
  },
  register(ctx) {
    const lb = createController(ctx);
    const mine = (chargerId: string) => lb.managed(chargerId);
    ctx.on('charger.booted', (e) => { if (mine(e.chargerId) && e.status === 'Accepted') void lb.configure(e.chargerId); });
    // After an appliance restart chargers reconnect without booting: they get their failsafe again then.
    ctx.on('charger.connected', (e) => { if (mine(e.chargerId)) setTimeout(() => void lb.configure(e.chargerId), 1000).unref(); });
    ctx.on('charger.disconnected', (e) => { if (mine(e.chargerId)) lb.tick(); });
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
      handler: ({ query }) => lb.history(ctx.core.clock.nowMs() - (query as { hours: number }).hours * 3600_000),
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
      async start() { await lb.start(); },
      async stop() { await lb.stop(); },
    };
  },
});
