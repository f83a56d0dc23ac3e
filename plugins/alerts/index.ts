import { randomBytes } from 'node:crypto';
import type { EventMap, EventName, Finding } from '../../core/events.js';
import { definePlugin } from '../../core/plugin.js';
import { STAFF } from '../../core/types.js';
import { channelTypes } from './channels/index.js';
import { AlertsConfigSchema, decodeChannel, validate } from './config.js';
import { createEngine } from './engine.js';
import { driverNotices } from './drivers.js';
import { escalate } from './escalation.js';
import { findingKey } from './finding-key.js';
import { alertMetrics } from './metrics.js';
import { migrations } from './migrations.js';
import { createDelivery } from './outbox.js';
import { loadVapid, pushStore, type VapidKeys } from './push.js';
import { pushRoutes } from './push-routes.js';
import { alertRoutes } from './routes.js';
import type { LiveChannel, Runtime, SettingRow } from './store.js';
import { errorMessage } from '../../core/errors.js';
import { serialQueue } from './retry.js';

/** How often the jobs look for due escalation levels and due deliveries (clock.advance() runs them at once). */
const ESCALATE_EVERY_MS = 5_000;
const DELIVER_EVERY_MS = 2_000;

export default definePlugin({
  manifest: {
    name: 'alerts',
    version: '1.0.0',
    summary: 'Notifies the right people by e-mail, SMS, push and MQTT, with escalation',
    wants: ['diagnostics', 'users'],
    config: AlertsConfigSchema,
    validate,
  },
  migrations,
  register(ctx) {
    const config = ctx.config;
    const channels = new Map<string, LiveChannel>();
    for (const raw of config.channels) {
      const decoded = decodeChannel(raw);
      channels.set(raw.name, { config: decoded, target: channelTypes[raw.type]!.describe(decoded as never), sender: null });
    }
    let secret: string | null = null;
    let vapid: VapidKeys | null = null;
    const push = pushStore(ctx.db, ctx.core.accounts, () => {
      if (!vapid) throw new Error('alerts plugin is not started');
      return vapid;
    }, config.push, ctx.log.child('push'));
    const drivers = driverNotices(ctx, () => push);
    let started = false;
    const queue = serialQueue();
    let kickQueued = false;

    const rt: Runtime = {
      ctx, config, channels,
      serial: (fn) => queue.run(fn),
      kick() {
        // Kicks while a pass waits in the queue fold into it: a burst of events costs one pass, not one each.
        if (!started || kickQueued) return;
        kickQueued = true;
        void rt.serial(() => { kickQueued = false; return escalate(rt); })
          .then(() => delivery.deliver())
          .catch((err: unknown) => ctx.log.error(`alerts: escalation or delivery failed: ${errorMessage(err)}`));
      },
      secret() {
        if (!secret) throw new Error('alerts plugin is not started');
        return secret;
      },
    };
    const engine = createEngine(rt);
    const delivery = createDelivery(rt);

    // Work goes through one queue (rt.serial), so a raise and a clear of one problem are applied in the order they
    // were emitted. The handler returns the queued work, so bus.idle() means the alerts are written too.
    const when = <K extends EventName>(event: K, fn: (e: EventMap[K]) => Promise<void> | undefined) => {
      ctx.on(event, (e) => {
        return fn(e)?.catch((err: unknown) => {
          const error = errorMessage(err);
          ctx.log.error(`alerts/${event} failed: ${error}`);
          if (event !== 'plugin.failed') ctx.emit('plugin.failed', { plugin: 'alerts', hook: event, error, at: ctx.core.clock.iso() });
        });
      });
    };

    // Findings from the diagnostics plugin: one alert per check, charger and connector (see findingKey).
    const fromFinding = (f: Finding) => engine.raise({
      key: findingKey(f), kind: f.check, severity: f.severity, chargerId: f.chargerId, connectorId: f.connectorId,
      findingId: f.id, message: f.message, action: f.action ?? null, since: f.since,
    });
    when('finding.raised', fromFinding);
    // A changed severity or message updates the open alert (and may make an info finding alert-worthy).
    when('finding.updated', fromFinding);
    when('finding.cleared', (f) => engine.clear(findingKey(f), f.id));

    // Core events that are problems in themselves.
    when('charger.rejected', (e) => engine.raise({
      key: `charger-rejected:${e.chargerId}`, kind: 'charger-rejected', severity: 'warning', chargerId: e.chargerId,
      connectorId: null, findingId: null, since: e.at, action: null,
      message: `Charger "${e.chargerId}" was refused when it connected from ${e.remoteAddress || 'an unknown address'}: ${e.reason}.`,
    }));
    when('charger.connected', (e) => engine.clear(`charger-rejected:${e.chargerId}`));
    // Unknown ids are summed up by the core: one alert, updated with each window's count, cleared by a quiet window.
    when('chargers.refused', (e) => (e.count === 0 ? engine.clear('charger-refusals') : engine.raise({
      key: 'charger-refusals', kind: 'charger-rejected', severity: 'warning', chargerId: null,
      connectorId: null, findingId: null, since: e.since, action: null,
      message: `${e.count} connection${e.count === 1 ? '' : 's'} refused since ${e.since} (${e.reason}) from ${e.addresses.join(', ') || 'unknown addresses'}; ids tried: ${e.ids.join(', ')}.`,
    })));
    when('charger.registered', (e) => (e.approved ? undefined : engine.raise({
      key: `charger-pending:${e.chargerId}`, kind: 'charger-pending', severity: 'info', chargerId: e.chargerId,
      connectorId: null, findingId: null, since: e.at, action: null,
      message: `A new charger "${e.chargerId}" connected and waits for approval.`,
    })));
    when('charger.approved', (e) => engine.clear(`charger-pending:${e.chargerId}`));
    when('plugin.failed', (e) => engine.raise({
      key: `plugin-failed:${e.plugin}:${e.hook}`, kind: 'plugin-failed', severity: 'warning', chargerId: null,
      connectorId: null, findingId: null, since: e.at, action: null,
      message: `Plugin ${e.plugin} failed in ${e.hook}: ${e.error}`,
    }));

    for (const spec of alertRoutes(rt, engine, delivery)) ctx.route(spec);
    for (const spec of pushRoutes(ctx.db, () => push, () => ctx.core.clock.iso())) ctx.route(spec);
    ctx.page({ path: 'alerts', title: 'Alerts', component: 'AlertsPage', roles: STAFF, icon: '⚠' });
    alertMetrics(ctx, [...channels.keys()]);
    ctx.every('escalate', ESCALATE_EVERY_MS, () => rt.serial(() => escalate(rt)));
    ctx.every('deliver', DELIVER_EVERY_MS, () => delivery.deliver());
    ctx.every('driver-notices', DELIVER_EVERY_MS, () => drivers.deliver());

    return {
      async start() {
        // The ack-link key is made once and kept, so links in old messages stay valid across restarts.
        const row = await ctx.db<SettingRow>('alerts_settings').where({ key: 'ack-secret' }).first();
        if (row) secret = row.value as string;
        else {
          secret = randomBytes(32).toString('base64url');
          await ctx.db('alerts_settings').insert({ key: 'ack-secret', value: secret }).onConflict('key').ignore();
          secret = (await ctx.db<SettingRow>('alerts_settings').where({ key: 'ack-secret' }).first())!.value;
        }
        // Web Push keys are made once and kept: browsers subscribed with this public key.
        vapid = await loadVapid(ctx.db, config.push);
        for (const [name, ch] of channels) {
          ch.sender = channelTypes[ch.config.type]!.create(ch.config as never, { log: ctx.log.child(name), site: ctx.core.site.name, push });
        }
        started = true;
        // Notices left pending by a restart or a crash go out now.
        rt.kick();
        drivers.start();
      },
      async stop() {
        started = false;
        await drivers.stop();
        // A send in flight ends within its channel timeout; do not hold the shutdown longer than that.
        const longest = Math.max(0, ...[...channels.values()].map((c) => c.config.timeout)) + 2000;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          rt.serial(async () => undefined).then(() => delivery.idle()),
          new Promise<void>((r) => { timer = setTimeout(r, longest); }),
        ]);
        clearTimeout(timer);
        await Promise.allSettled([...channels.values()].map((ch) => ch.sender?.close?.()));
      },
    };
  },
});
