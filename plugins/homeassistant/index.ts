import { definePlugin } from '../../core/plugin.js';
import { errorMessage } from '../../core/errors.js';
import { STAFF } from '../../core/types.js';
import { createCommands } from './commands.js';
import { HomeAssistantConfigSchema, validate } from './config.js';
import { createLink, safeUrl } from './link.js';
import { migrations } from './migrations.js';
import { createPublisher } from './publisher.js';
import { createModel } from './state.js';
import { topicsOf } from './topics.js';

/** A running session's duration sensor moves on this often without new readings. */
const SESSION_REFRESH_MS = 60_000;

export default definePlugin({
  manifest: {
    name: 'homeassistant',
    version: '1.0.0',
    summary: 'Every charger and connector in Home Assistant by MQTT discovery: status, power, energy, session, last error, and optional buttons',
    config: HomeAssistantConfigSchema,
    validate,
  },
  migrations,
  register(ctx) {
    const c = ctx.config;
    const topics = topicsOf(c.topicPrefix, c.discoveryPrefix);
    // Bus events wait for the first load, so a charger is never loaded twice.
    let markReady!: () => void;
    const ready = new Promise<void>((r) => { markReady = r; });

    const model = createModel(ctx.db, ctx.core, ctx.log, (m, change) => publisher.mark(m, change));
    const commands = createCommands({
      core: ctx.core, model, log: ctx.log, topicPrefix: c.topicPrefix,
      role: c.commands.role, idTag: c.commands.idTag, timeoutMs: c.timeout,
    });
    const link = createLink({
      url: c.url, username: c.username, password: c.password, timeoutMs: c.timeout, statusTopic: topics.status, log: ctx.log,
      subscriptions: () => [topics.haStatus, ...(c.commands.enabled ? [topics.commands] : [])],
      onConnect: () => publisher.resync(),
      onMessage(topic, payload) {
        if (topic === topics.haStatus) {
          // Home Assistant came back: it asks for discovery again.
          if (payload.length <= 16 && payload.toString('utf8') === 'online') publisher.markAll();
          return;
        }
        if (!c.commands.enabled) return;
        void ready.then(() => commands.handle(topic, payload)).catch((err: unknown) => ctx.log.error(`a Home Assistant command failed: ${errorMessage(err)}`));
      },
    });
    const publisher = createPublisher({ db: ctx.db, link, model, topics, clock: ctx.core.clock, log: ctx.log, commands: c.commands.enabled, version: ctx.core.version });

    const after = <E>(fn: (e: E) => Promise<void>) => async (e: E) => { await ready; await fn(e); };
    ctx.on('charger.connected', after((e) => model.online(e.chargerId, true)));
    ctx.on('charger.disconnected', after((e) => model.online(e.chargerId, false)));
    ctx.on('charger.booted', after((e) => model.booted(e)));
    ctx.on('charger.approved', after(async (e) => { await model.ensure(e.chargerId); }));
    ctx.on('connector.status', after((e) => model.status(e)));
    ctx.on('meter.sampled', after((e) => model.sampled(e)));
    ctx.on('session.started', after((e) => model.started(e)));
    ctx.on('session.stopped', after((e) => model.stopped(e)));
    ctx.on('charger.deleted', after(async (e) => {
      await model.remove(e.chargerId);
      await publisher.remove(e.chargerId);
    }));
    ctx.every('session-duration', SESSION_REFRESH_MS, () => publisher.markSessions());

    ctx.route({
      method: 'GET', path: '/homeassistant/status', roles: STAFF,
      summary: 'The link to the MQTT broker: connected, the last error, how many chargers Home Assistant was told about, whether buttons are on',
      handler: () => ({
        broker: safeUrl(c.url),
        connected: link.state.connected,
        lastError: link.state.lastError,
        lastConnectedAt: link.state.lastConnectedAt,
        announcedChargers: publisher.announcedCount(),
        commands: { enabled: c.commands.enabled, role: c.commands.role, droppedByRateLimit: commands.dropped() },
      }),
    });

    return {
      async start() {
        try {
          await model.load();
        } finally {
          markReady();
        }
        link.start();
      },
      async stop() {
        markReady();
        publisher.stop();
        await publisher.settled();
        await link.stop();
      },
    };
  },
});
