import { definePlugin } from '../../core/plugin.js';
import { STAFF } from '../../core/types.js';
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
    ctx.on('session.started', (e) => lb.started(e));
    ctx.on('session.stopped', (e) => lb.stopped(e));
    ctx.on('meter.sampled', (s) => {
      if (s.source === 'ocpp' && s.chargerId && s.connectorId && s.currentA) lb.sampled(s.chargerId, s.connectorId, s.currentA);
      else if (s.source === 'modbus' && s.meterId) lb.metered(s.meterId, s.currentA);
    });
    // A meter declared unreachable is not trusted at once, without waiting for meterStaleAfter.
    ctx.on('meter.unreachable', (e) => lb.meterLost(e.meterId));
    ctx.every('tick', TICK_MS, () => lb.tick());
    ctx.route({
      method: 'GET', path: '/loadbalancing', roles: STAFF,
      summary: 'Each circuit with its limit, room and allocated current per phase, its meter, and per connector its limit, measured draw and state',
      handler: () => lb.view(),
    });
    return {
      async start() { lb.start(); },
      async stop() { await lb.stop(); },
    };
  },
});
