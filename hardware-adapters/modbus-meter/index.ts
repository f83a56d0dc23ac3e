import { definePlugin } from '../../core/plugin.js';
import { STAFF } from '../../core/types.js';
import { MetersConfigSchema, linkOf, validateMeters } from './config.js';
import { LinkPool } from './link.js';
import { loadModels } from './model.js';
import { MeterPoller } from './poller.js';
import { meterRoutes } from './routes.js';
import { compact, latestReading, loadStatus, migrations, readingRow, saveStatus } from './store.js';

/** How often old samples are folded into minute and hour averages. */
const COMPACT_EVERY_MS = 10 * 60_000;

/**
 * Modbus energy meters (grid meter, one per charger) declared under the site
 * config's top-level `meters:` list. Each is polled on its own timer through
 * a shared, serialised connection per bus; readings go out as `meter.sampled`
 * and into meters_* tables.
 */
export default definePlugin({
  manifest: {
    name: 'meters',
    version: '1.0.0',
    summary: 'Modbus TCP/RTU energy meters: polled, stored, published on the bus',
    config: MetersConfigSchema,
    validate(meters) {
      let models;
      try {
        models = loadModels();
      } catch (err) {
        // A missing or unreadable models folder is a broken install: say so on each meter instead of crashing the boot.
        return meters.map((_, i) => ({ path: `[${i}].model`, message: `cannot load meter models: ${(err as Error).message}` }));
      }
      return validateMeters(meters, models);
    },
  },
  migrations,
  register(ctx) {
    const { models, broken } = loadModels();
    for (const [name, err] of broken) ctx.log.warn(`model ${name} is not usable: ${err.message}`);
    const meters = ctx.config;
    const pollers = new Map<string, MeterPoller>();
    let pool: LinkPool | null = null;

    for (const spec of meterRoutes({ meters, pollers, db: ctx.db, clock: ctx.core.clock })) ctx.route(spec);
    ctx.page({ path: 'meters', title: 'Meters', component: 'MetersPage', roles: STAFF });
    ctx.every('compact', COMPACT_EVERY_MS, async () => {
      const done = await compact(ctx.db, ctx.core.clock.nowMs());
      if (done.raw || done.minutes) ctx.log.debug(`compacted ${done.raw} samples and ${done.minutes} minute rows`);
    });

    return {
      async start() {
        pool = new LinkPool(ctx.log);
        const status = await loadStatus(ctx.db);
        for (const meter of meters) {
          const model = models.get(meter.model);
          // validate() refused unknown models at boot; this only guards a model file removed since.
          if (!model) throw new Error(`meter ${meter.id}: model "${meter.model}" is not available`);
          const { unitId, ...link } = linkOf(meter, model);
          const route = meter.role === 'charger' ? { chargerId: meter.chargerId, connectorId: meter.connectorId } : {};
          const poller = new MeterPoller({
            // Reconnect attempts start at the poll interval (at most 1 s) and back off to 30 s.
            meter, model, unitId, link: pool.get(link, { initialMs: Math.min(1000, meter.pollInterval), maxMs: 30_000 }), clock: ctx.core.clock, log: ctx.log,
            wasUnreachable: status.get(meter.id)?.reachable === false,
            onSample: async (at, reading) => {
              ctx.emit('meter.sampled', { source: 'modbus', meterId: meter.id, ...route, at, ...reading });
              await ctx.core.writer.write((trx) => trx('meters_readings').insert(readingRow(meter.id, at, reading)));
            },
            onUnreachable: async (at, error) => {
              ctx.emit('meter.unreachable', { meterId: meter.id, at, error });
              await saveStatus(ctx.db, meter.id, { reachable: false, changedAt: at, lastError: error });
            },
            onReachable: async (at) => {
              ctx.emit('meter.reachable', { meterId: meter.id, at });
              await saveStatus(ctx.db, meter.id, { reachable: true, changedAt: at, lastError: null });
            },
          });
          const last = await latestReading(ctx.db, meter.id);
          if (last) poller.reading = { at: last.at, ...last.reading };
          pollers.set(meter.id, poller);
        }
        for (const p of pollers.values()) p.start();
        ctx.log.info(`polling ${pollers.size} meter(s) on ${pool.size} bus(es)`);
      },
      async stop() {
        await Promise.all([...pollers.values()].map((p) => p.stop()));
        pollers.clear();
        await pool?.closeAll();
        pool = null;
      },
    };
  },
});
