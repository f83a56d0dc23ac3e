import { setImmediate as nextTurn } from 'node:timers/promises';
import { definePlugin } from '../../core/plugin.js';
import { ApiError } from '../../core/errors.js';
import { STAFF } from '../../core/types.js';
import type { UsersApi } from '../users/api.js';
import { ReservationsConfigSchema, validate } from './config.js';
import { driveRoutes } from './drive.js';
import { Holds } from './holds.js';
import { KeyedLock } from './keyed-lock.js';
import { migrations } from './migrations.js';
import { QueueStore } from './queue-store.js';
import { ReservationService } from './reserve.js';
import { reservationRoutes } from './routes.js';
import { sitePlanRoutes } from './site-plan.js';
import { ReservationStore } from './store.js';
import { Waitlist } from './waitlist.js';

// How often expiries and lapsed waitlist offers are looked for; clock.advance() in tests runs it at once.
const SWEEP_MS = 10_000;

export default definePlugin({
  manifest: {
    name: 'reservations',
    version: '1.0.0',
    summary: 'Reservations (held by the charger or enforced locally), a waitlist for busy sites, and the drivers\' mobile page',
    needs: ['users'],
    wants: ['billing'],
    config: ReservationsConfigSchema,
    validate,
  },
  migrations,
  register(ctx) {
    const { clock } = ctx.core;
    const users = (): UsersApi => {
      const api = ctx.use<UsersApi>('users');
      if (!api) throw new ApiError(503, 'the users plugin is not running');
      return api;
    };
    const store = new ReservationStore(ctx.db, clock);
    const queue = new QueueStore(ctx.db, clock);
    const holds = new Holds(ctx.core, store, queue);
    const locks = new KeyedLock();
    const service = new ReservationService({ ctx, store, holds, locks, users });
    const waitlist = new Waitlist({ ctx, store: queue, holds, locks });

    ctx.decide('restrict', (req) => holds.restrict(req));

    ctx.on('session.started', async (e) => {
      await service.started(e);
      await waitlist.started(e);
    });
    ctx.on('reservation.status', (e) => service.droppedByCharger(e));
    ctx.on('connector.status', async (e) => {
      if (e.status === 'Available') await waitlist.dispatch(e.chargerId);
    });
    // A connector a reservation kept may be free now (the appliance-enforced ones report Available all along).
    ctx.on('reservation.ended', (e) => waitlist.dispatch(e.chargerId));

    // Chargers whose reservations were sent again since they last connected: a charger restarts only over a
    // new connection, so another boot on the same one (a TriggerMessage, a retried boot) must not send them twice.
    const restored = new Set<string>();
    ctx.on('charger.connected', (e) => {
      restored.delete(e.chargerId);
    });
    ctx.on('charger.deleted', async (e) => {
      await service.chargerRemoved(e.chargerId, e.by);
      await waitlist.chargerRemoved(e.chargerId);
    });
    ctx.on('charger.booted', async (e) => {
      // Pending or Rejected: the charger is not registered yet; its accepted boot comes later.
      if (e.status !== 'Accepted' || restored.has(e.chargerId)) return;
      restored.add(e.chargerId);
      // The core writes the Accepted reply in the turn that emitted this event; the reservations must reach the charger after it.
      await nextTurn();
      await service.restore(e.chargerId);
    });

    ctx.every('expire', SWEEP_MS, async () => {
      await service.expire();
      await waitlist.expire();
    });

    for (const spec of [
      ...reservationRoutes({ core: ctx.core, config: ctx.config, store, service, queue, waitlist, holds }),
      ...driveRoutes({ core: ctx.core, holds, store, users, ask: ctx.ask }),
      ...sitePlanRoutes({ db: ctx.db, core: ctx.core }),
    ]) ctx.route(spec);

    ctx.page({ path: 'drive', title: 'Charge', component: 'DrivePage', roles: ['driver', 'installer', 'technician', 'viewer'], icon: 'bolt' });
    ctx.page({ path: 'reservations', title: 'Reservations', component: 'ReservationsPage', roles: STAFF, icon: 'list' });
  },
});
