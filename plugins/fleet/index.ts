import { definePlugin } from '../../core/plugin.js';
import { STAFF } from '../../core/types.js';
import { createCampaigns } from './campaigns.js';
import { FleetConfigSchema, validate } from './config.js';
import { createEngine } from './engine.js';
import { FirmwareFiles } from './files.js';
import { migrations } from './migrations.js';
import { routes } from './routes.js';
import { FleetStore } from './store.js';

export default definePlugin({
  manifest: {
    name: 'fleet',
    version: '1.0.0',
    summary: 'Firmware and configuration campaigns over groups of chargers: a canary first, then waves, stopped at the first failure',
    config: FleetConfigSchema,
    validate,
  },
  migrations,
  register(ctx) {
    const store = new FleetStore(ctx.db);
    const files = new FirmwareFiles(ctx.db, ctx.core, () => ({ linkTtlMs: ctx.config.linkTtl, maxDownloads: ctx.config.maxDownloads }));
    const engine = createEngine({ core: ctx.core, log: ctx.log, store, files, config: () => ctx.config });
    const groups = () => ctx.config.groups;
    const campaigns = createCampaigns({ db: ctx.db, core: ctx.core, store, engine, groups });

    // Awaited: a failure is attributed to fleet/<event>, and one charger's events are taken in the order it sent them.
    ctx.on('firmware.status', (e) => engine.firmwareStatus(e.chargerId, e.status, e.requestId));
    ctx.on('charger.booted', async (e) => { if (e.status === 'Accepted') await engine.booted(e.chargerId, e.firmwareVersion); });
    ctx.on('charger.connected', (e) => engine.connected(e.chargerId));
    // A reboot waiting for a session to end goes once it has.
    ctx.on('session.stopped', () => engine.kick());
    ctx.every('check', ctx.config.checkEvery, () => engine.kick());

    for (const spec of routes({ core: ctx.core, store, files, campaigns, groups, maxFirmwareBytes: ctx.config.maxFirmwareBytes })) ctx.route(spec);
    ctx.page({ path: 'fleet', title: 'Fleet', component: 'FleetPage', roles: STAFF, icon: '⇪' });

    return {
      // Campaigns left running by the last run go on where their rows say they stood.
      async start() { engine.kick(); },
      async stop() { await engine.close(); },
    };
  },
});
