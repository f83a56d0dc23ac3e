import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Knex } from 'knex';
import { Accounts } from './accounts.js';
import { AuditLog } from './audit.js';
import { Bus } from './bus.js';
import { CertificateAuthority } from './certificates/authority.js';
import { certificateRoutes } from './certificates/routes.js';
import { Certificates } from './certificates/service.js';
import { Chargers } from './chargers.js';
import { Cluster } from './cluster/index.js';
import { Clock } from './clock.js';
import { ConfigError, configFileOf, loadCoreConfig, type LoadedConfig } from './config.js';
import { migrate, openDatabase, sqliteFilename } from './db/index.js';
import { coreMigrations, withMigrationLock } from './db/migrations.js';
import { GroupWriter } from './db/writer.js';
import { downsampleMeterValues, pruneMeterValues } from './db/retention.js';
import { PluginHost, sameDurationWords, type RegistryEntry } from './host.js';
import { settingsRoutes } from './http/routes/settings.js';
import { SiteSettings } from './site-config/service.js';
import { ConfigVersions } from './site-config/versions.js';
import { HttpServer } from './http/server.js';
import { chargerRoutes } from './http/routes/chargers.js';
import { chargerActionRoutes } from './http/routes/charger-actions.js';
import { deviceModelRoutes } from './http/routes/device-model.js';
import { systemRoutes } from './http/routes/system.js';
import { transactionRoutes } from './http/routes/transactions.js';
import { statsRoutes } from './http/routes/stats.js';
import { createLogger } from './log.js';
import { Metrics, registerCoreMetrics } from './metrics.js';
import { OcppMetrics } from './ocpp/metrics.js';
import { OcppServer } from './ocpp/server.js';
import { SampledUnits } from './ocpp/sampled-units.js';
import { Readings } from './readings.js';
import { Transactions } from './transactions.js';
import { ChargerHistory } from './history.js';
import type { CoreServices } from './services.js';
import type { Logger } from './types.js';

/** The project folder: the nearest one up with package.json (the source tree or, built, above dist/). */
function projectRoot(): string {
  let dir = resolve(import.meta.dirname, '..');
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
const root = projectRoot();
export const VERSION = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

export interface App {
  config: LoadedConfig;
  url: string;
  port: number;
  bus: Bus;
  clock: Clock;
  db: Knex;
  writer: GroupWriter;
  host: PluginHost;
  ocpp: OcppServer;
  http: HttpServer;
  log: Logger;
  /** What plugins get as ctx.core: tests and the composition root use the same seams. */
  core: CoreServices;
  /** This node of a cluster (`cluster:`), or null for one node. */
  cluster: Cluster | null;
  stop(): Promise<void>;
}

export interface BootOptions {
  env?: NodeJS.ProcessEnv;
  /** Where log lines go; stdout by default. */
  logSink?: (line: string) => void;
  clock?: Clock;
  /** Restarts the appliance in place (the launcher, app/main.ts); without it the settings UI asks for a manual restart. */
  restart?: () => void;
}

/** What the appliance is made of, handed in by the composition root (app/site.ts) or a test. */
export interface BootParts {
  /** Every plugin an installer can enable under `plugins:`, by config key. */
  plugins: Record<string, RegistryEntry>;
  /** Hardware adapters, by the top-level config key that enables them. */
  adapters: Record<string, RegistryEntry>;
}

/**
 * Reads the site config and checks every section (core, plugins, hardware)
 * without opening anything. Used by boot() and by `npm run config:check`.
 */
export function checkSiteConfig(env: NodeJS.ProcessEnv, parts: BootParts, opts: Pick<BootOptions, 'logSink' | 'clock'> & { text?: string } = {}) {
  const { config, raw, problems } = loadCoreConfig(env, opts.text);
  const file = configFileOf(env);
  const log = createLogger(config?.core.log.level ?? 'info', 'core', opts.logSink);
  const clock = opts.clock ?? new Clock();
  const bus = new Bus(log.child('bus'), clock);
  const host = new PluginHost(bus, clock, log.child('plugins'));

  const pluginsRaw = raw.plugins && typeof raw.plugins === 'object' && !Array.isArray(raw.plugins) ? raw.plugins as Record<string, unknown> : {};
  const { plugins, adapters } = parts;
  const enabled = Object.entries(pluginsRaw).map(([key, value]) => ({ key, path: `plugins.${key}`, raw: value, registry: plugins }));
  for (const key of Object.keys(adapters)) {
    if (raw[key] !== undefined && raw[key] !== null) enabled.push({ key, path: key, raw: raw[key], registry: adapters });
  }
  const all = [...problems, ...host.prepare(enabled)];
  return { file, config: all.length ? undefined : config, problems: all, log, clock, bus, host, enabled };
}

/** load → validate → order → migrate → register → start. Throws ConfigError before anything opens. */
export async function boot(parts: BootParts, opts: BootOptions = {}): Promise<App> {
  const env = opts.env ?? process.env;
  const startedAtMs = Date.now();
  // Every section is validated before anything opens, and all problems are reported at once.
  const { file, config, problems, log, clock, bus, host } = checkSiteConfig(env, parts, opts);
  if (!config) throw new ConfigError(problems, file);
  const bootText = readFileSync(file, 'utf8');

  const { core } = config;
  const db = openDatabase(core.storage, config.dataDir);
  const accounts = new Accounts(db, clock, core.http.sessionTtl);
  try {
    // The first admin is made under the same lock: two nodes on an empty database would both make one.
    await withMigrationLock(db, async () => {
      await migrate(db, 'core', coreMigrations);
      await host.migrate(db);
      await accounts.ensureAdmin(config.adminPassword, log);
    });
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const writer = new GroupWriter(db, core.storage.groupCommitWindow, log.child('db'), core.storage.meterValuesCommitWindow);
  const audit = new AuditLog(db, clock);
  const sampledUnits = new SampledUnits();
  const metricsOn = core.http.metrics.enabled;
  const metrics = new Metrics(log.child('metrics'), metricsOn);
  const security = core.ocpp.security;
  let ca: CertificateAuthority | null = null;
  try {
    ca = security ? CertificateAuthority.open(security.ca, config.dataDir, core.site.name, security.organization, log.child('certificates')) : null;
  } catch (err) {
    await db.destroy();
    throw new ConfigError([{ path: security?.ca ? 'ocpp.security.ca' : 'ocpp.security', message: `cannot use the CA: ${(err as Error).message}` }], file);
  }
  const certificates: Certificates = new Certificates({
    db, writer, bus, audit, clock, log: log.child('certificates'), ca, validityMs: security?.certificateValidity ?? 365 * 86_400_000,
    organization: security?.organization, serverCertFile: core.http.tls?.cert,
    deliver: (chargerId, chain, kind): Promise<{ accepted: boolean; status: string }> => chargers.commands.certificateSigned(chargerId, { chain, kind }, { actor: 'system' }),
  });
  const ocpp = new OcppServer({ db, writer, bus, clock, log: log.child('ocpp'), config: core.ocpp, sampledUnits, certificates }, metricsOn ? new OcppMetrics(metrics) : null);
  const chargers = new Chargers(db, ocpp, bus, audit, clock);
  // Several nodes: each charger leased to the node it is connected to, commands routed, jobs run once. Absent: none of it runs.
  const cluster = core.cluster ? new Cluster({
    config: core.cluster, callTimeoutMs: core.ocpp.callTimeout, connection: core.storage.connection ?? {}, db, writer, bus, ocpp, log: log.child('cluster'),
  }) : null;
  if (cluster) {
    ocpp.attachCluster(cluster);
    chargers.attachCluster(cluster);
    host.jobGate = (name, fn) => cluster.jobs.gate(name, fn);
  }
  const http = new HttpServer({
    config: core, log: log.child('http'), accounts, version: VERSION, uiDir: join(root, 'ui', 'dist'),
    ownerState: (owner) => (owner === 'core' ? 'running' : host.state(owner)),
    clientCa: security?.profile === 3 && ca ? ca.chainPem : undefined,
  });
  // Without http.publicUrl, links use this box's name and the port actually bound (tests bind port 0).
  const linkHost = ['127.0.0.1', 'localhost', '::1'].includes(core.http.host) ? core.http.host : hostname();
  const services: CoreServices = {
    site: core.site, dataDir: resolve(config.dataDir), version: VERSION,
    get publicUrl() {
      return core.http.publicUrl?.replace(/\/$/, '') ?? `${core.http.tls ? 'https' : 'http'}://${linkHost}:${http.port || core.http.port}`;
    },
    clock, accounts, audit, writer, chargers, readings: new Readings(db), transactions: new Transactions(db), history: new ChargerHistory(db),
    sampledUnits, metrics, certificates,
  };
  if (metricsOn) registerCoreMetrics(metrics, { db, bus, writer, readings: services.readings, onlineIds: () => ocpp.onlineIds() });

  const routeDeps = {
    db, config: core, version: VERSION, startedAtMs, clock, bus, accounts, audit, chargers, ocpp, http, readings: services.readings, metrics,
    plugins: () => host.status(),
    pluginSettings: (name: string) => host.settings(name),
    dataDir: resolve(config.dataDir),
    databaseFile: core.storage.client === 'sqlite' ? sqliteFilename(core.storage, config.dataDir) : null,
  };
  for (const spec of [...systemRoutes(routeDeps), ...chargerRoutes(routeDeps), ...chargerActionRoutes(routeDeps), ...deviceModelRoutes(routeDeps), ...transactionRoutes(routeDeps), ...statsRoutes(routeDeps), ...certificateRoutes({ chargers, certificates })]) {
    http.mount('core', spec);
  }
  host.register({ db, core: services, log });
  for (const { owner, spec } of host.routes()) http.mount(owner, spec);
  const siteSettings = new SiteSettings({
    env, parts, host, versions: new ConfigVersions(db, clock), audit, log: log.child('settings'),
    check: (text) => {
      const checked = checkSiteConfig(env, parts, { logSink: () => undefined, text });
      return { problems: checked.problems, enabled: checked.enabled };
    },
    remount: (owner, routes) => http.remount(owner, routes),
    uiSchema: (schema) => sameDurationWords(JSON.parse(JSON.stringify(schema))),
  }, bootText);
  const transfer = {
    settings: siteSettings, accounts, host, siteName: core.site.name, now: () => clock.iso(),
    audit: (actor: string, action: string, detail: unknown) => audit.record(actor, action, null, detail),
  };
  for (const spec of settingsRoutes({ settings: siteSettings, transfer, restart: opts.restart })) http.mount('core', spec);
  await http.init();
  await cluster?.start();
  await ocpp.start();
  await host.start();
  await siteSettings.sync();
  const { keepMeterValues, thinMeterValuesAfter, thinMeterValuesTo } = core.storage;
  // Hourly: old readings deleted first, so thinning never works on rows about to go.
  const retention = async () => {
    await pruneMeterValues(db, writer, clock, keepMeterValues, log.child('db'));
    await downsampleMeterValues(db, writer, clock, thinMeterValuesAfter, thinMeterValuesTo, log.child('db'));
  };
  const stopPruning = clock.every(3_600_000, cluster ? cluster.jobs.gate('core/retention', retention) : retention, (err) => log.error('could not delete or thin old meter readings', { error: String(err) }));
  http.hapi.listener.on('upgrade', (req, socket, head) => ocpp.handleUpgrade(req, socket as import('node:net').Socket, head));
  await http.start();
  const port = http.port;
  const scheme = core.http.tls ? 'https' : 'http';
  log.info(`ChargeKeeper ${VERSION} "${core.site.name}" listening on ${scheme}://${core.http.host}:${port} (OCPP at ${scheme === 'https' ? 'wss' : 'ws'}://<host>:${port}${core.ocpp.path}/<chargePointId>) in ${Date.now() - startedAtMs} ms`);

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      log.info('shutting down');
      stopPruning();
      certificates.close();
      await ocpp.close();
      await http.stop();
      await bus.idle();
      await host.stop();
      await bus.idle();
      await writer.flush();
      await cluster?.stop();
      await db.destroy();
      log.info('stopped');
    })();
    return stopping;
  };
  return {
    config, url: `${scheme}://127.0.0.1:${port}`, port, bus, clock, db, writer, host, ocpp, http, log, core: services, cluster, stop,
  };
}
