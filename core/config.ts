import { readFileSync } from 'node:fs';
import { Type, type Static, type StaticDecode } from '@sinclair/typebox';
import { parseDocument } from 'yaml';
import { proxyEntryProblem } from './http/client-address.js';
import { MIN_ADMIN_PASSWORD } from './passwords.js';
import { Duration, Strict, decode, type ConfigProblem } from './schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[], readonly file: string) {
    super(`${file}: ${problems.length} problem(s) in the site config:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const systemTimezone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export const CoreConfigSchema = Strict({
  site: Strict({
    name: Type.String({ minLength: 1, default: 'ChargeKeeper', description: 'Name of the site, shown in the UI and in alert messages.' }),
    timezone: Type.String({ default: systemTimezone, description: 'IANA time zone of the site, like Europe/Berlin; used for reports, quiet hours and monthly budgets. Default: the time zone of this machine.' }),
  }, { default: {}, description: 'The site as people see it.' }),
  storage: Strict({
    client: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')], { default: 'sqlite', description: 'Database: sqlite (a file in the data directory) or postgres.' }),
    filename: Type.String({ default: 'chargekeeper.sqlite', description: 'SQLite file name inside the data directory.' }),
    // Open: passed to the database driver (knex) as it is.
    connection: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'PostgreSQL connection settings (host, port, user, password, database), passed to the driver as they are.' })),
    // Bounds the latency added to every OCPP reply that writes.
    groupCommitWindow: Duration({ default: '5ms', description: 'How long accepted OCPP writes may wait to be committed together, like 5ms.' }),
    // An SD card pays per commit, not per row: at a site's pace a second's readings share one (the reply still waits for it).
    meterValuesCommitWindow: Duration({ default: '1s', description: 'How long a MeterValues message may wait for others to be committed with it (its reply waits too), like 1s; under load it waits no longer than groupCommitWindow. 0 or no more than groupCommitWindow: as every other write.' }),
    synchronous: Type.Union([Type.Literal('full'), Type.Literal('normal')], {
      default: 'full',
      description: 'full: every commit is on disk before the reply (survives a power cut); normal: faster, survives crashes but not a power cut.',
    }),
    keepMeterValues: Duration({ default: '400d', description: 'Meter readings older than this are deleted (hourly), at least 7d; sessions, their energy and costs stay. A long one like 36500d keeps them all.' }),
    // An SD card lasts longer, and charts over a year stay fast, when old readings are thinned.
    thinMeterValuesAfter: Duration({ default: '30d', description: 'Meter readings older than this are thinned (hourly) to one per thinMeterValuesTo per session and measurand, at least 7d; energy per interval, day and session stays exact. A long one like 36500d keeps every reading.' }),
    thinMeterValuesTo: Duration({ default: '15m', description: 'What thinning keeps: the last reading of each interval this long (it must divide a day, like 5m, 15m or 1h).' }),
  }, { default: {}, description: 'Where the data is kept.' }),
  http: Strict({
    host: Type.String({ default: '0.0.0.0', description: 'Address the web server listens on; 0.0.0.0 = every network interface.' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'TCP port of the web UI, the API and the OCPP endpoint.' }),
    publicUrl: Type.Optional(Type.String({ format: 'uri', description: 'Base URL used in links sent out (alert e-mails), like https://charging.example.org. Default: http://<hostname>:<port>.' })),
    tls: Type.Optional(Strict({
      cert: Type.String({ description: 'PEM certificate file.' }),
      key: Type.String({ description: 'PEM private key file.' }),
    }, { description: 'Serve HTTPS (and wss:// for chargers) directly; leave out behind a reverse proxy or for plain HTTP.' })),
    sessionTtl: Duration({ default: '12h', description: 'How long a login stays valid, like 12h; then the user signs in again.' }),
    trustProxy: Type.Union([
      Type.Boolean(),
      Type.Array(Type.String({ minLength: 2, maxLength: 50 }), { maxItems: 32 }),
    ], {
      default: false,
      description: 'Behind a reverse proxy (Caddy, nginx, Traefik): whose X-Forwarded-For to believe. false: use the socket address; a list of proxy addresses or CIDR ranges (["127.0.0.1", "10.0.0.0/8"]): the client is the right-most X-Forwarded-For hop that is not one of them; true: the direct peer is the proxy (its right-most hop is the client).',
    }),
    metrics: Strict({
      enabled: Type.Boolean({ default: true, description: 'Serve Prometheus metrics at GET /metrics (chargers, OCPP traffic and latency, sessions, energy, storage, the process; plugins add theirs).' }),
      public: Type.Boolean({ default: false, description: 'false: /metrics needs "Authorization: Bearer" with a staff token (viewer or above); true: no token, for a scraper on a trusted network (the metrics name chargers and their energy).' }),
    }, { default: {}, description: 'Prometheus metrics at GET /metrics.' }),
  }, { default: {}, description: 'The web server.' }),
  ocpp: Strict({
    path: Type.String({ pattern: '^/[A-Za-z0-9/_-]*$', default: '/ocpp', 'x-expected': 'a path like /ocpp', description: 'URL path chargers connect to, followed by their id: ws://<host>:<port>/ocpp/<id>.' }),
    unknownChargers: Type.Union([Type.Literal('accept'), Type.Literal('pending'), Type.Literal('reject')], { default: 'pending', description: 'A charger id the site does not know: pending (an installer approves it), accept (labs only) or reject.' }),
    maxMessageRate: Type.Integer({ minimum: 1, maximum: 10_000, default: 50, 'x-unit': 'messages/s', description: 'Messages per second one charger may send (bursts of five times as many); more are answered with an error.' }),
    heartbeatInterval: Duration({ default: '300s', description: 'Heartbeat interval given to chargers when they boot, like 300s.' }),
    // A dead link counts as offline after at most twice this.
    pingInterval: Duration({ default: '60s', description: 'How often each charger socket is pinged; one unanswered ping closes it (0s = never).' }),
    callTimeout: Duration({ default: '30s', description: 'How long a remote command waits for the charger\'s reply before it fails, like 30s.' }),
    freeVend: Type.Boolean({ default: true, description: 'With no plugin deciding who may charge (users): true accepts every card, false refuses every card.' }),
    security: Type.Optional(Strict({
      profile: Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3)], {
        default: 1,
        description: 'OCPP security profile of the site: 1 = password (HTTP Basic) as set per charger; 2 = the same over TLS (needs http.tls); 3 = TLS with a client certificate issued by the site CA, whose CN must be the charger id (needs http.tls; no password).',
      }),
      organization: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'When set, a charger\'s certificate request must name this organisation (O) as well as its id (CN).' })),
      ca: Type.Optional(Strict({
        cert: Type.String({ description: 'PEM certificate of your own CA (any intermediates after it).' }),
        key: Type.String({ description: 'PEM private key of that CA.' }),
      }, { description: 'Sign charger certificates with your own CA; left out = a CA made on first start in <dataDir>/ca/.' })),
      certificateValidity: Duration({ default: '365d', description: 'How long a charger certificate the site signs is valid, like 365d.' }),
    }, { description: 'Charger certificates (SignCertificate) and security profiles 2 and 3; left out = no site CA, certificate requests are rejected.' })),
    lenient: Strict({
      everyCharger: Type.Boolean({ default: false, description: 'Cut over-long fields of every charger (raises a truncated-field finding) instead of refusing the message.' }),
      models: Type.Array(Strict({
        vendor: Type.String({ minLength: 1, description: 'Vendor (chargePointVendor) as the charger boots with it, in any case.' }),
        model: Type.Optional(Type.String({ minLength: 1, description: 'Model (chargePointModel), in any case; left out = every model of the vendor.' })),
      }), { default: [], description: 'Only chargers of these vendors / models are cut, the others refused.' }),
    }, { default: {}, description: 'For chargers whose firmware sends strings longer than OCPP 1.6 allows: store them cut instead of refusing the message (a card id is never cut: it could name another card).' }),
  }, { default: {}, description: 'The OCPP 1.6 central system chargers connect to.' }),
  log: Strict({
    level: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], { default: 'info', description: 'Least severe log messages written: debug, info, warn or error.' }),
  }, { default: {}, description: 'Logging.' }),
  // Each plugin section is checked by the plugin host against that plugin's own schema.
  plugins: Type.Record(Type.String(), Type.Unknown(), { default: {}, description: 'Plugins enabled on this site, each by its key; `{}` enables one with its defaults.' }),
  // Scale-out (core/cluster): absent = one node, nothing of it runs.
  cluster: Type.Optional(Strict({
    nodeId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', 'x-expected': 'letters, digits, . _ - (at most 64)', description: 'This node\'s name, unique in the cluster. Default: the machine\'s hostname.' })),
    bus: Type.String({ pattern: '^mqtts?://[^\\s]+$', 'x-expected': 'a URL like mqtt://127.0.0.1:1883', description: 'The MQTT broker the nodes talk through (commands, events, lease changes), like mqtt://127.0.0.1:1883; user and password may be in the URL.' }),
    prefix: Type.String({ pattern: '^[A-Za-z0-9_-]{1,40}(/[A-Za-z0-9_-]{1,40}){0,3}$', default: 'chargekeeper', description: 'Topic prefix of this cluster on the broker.' }),
    protocolVersion: Type.Union([Type.Literal(5), Type.Literal(4)], { default: 5, description: 'MQTT version spoken to the broker: 5, or 4 (3.1.1) for a broker without MQTT 5 (requests then name their reply topic in the payload only).' }),
    // A charger counts as online elsewhere while its lease was renewed within leaseTimeout.
    leaseRenewal: Duration({ default: '5s', description: 'How often a node renews the leases of the chargers connected to it, like 5s.' }),
    leaseTimeout: Duration({ default: '20s', description: 'A lease not renewed for this long counts as gone (its node died): the charger shows offline until it reconnects.' }),
  }, { description: 'Several nodes sharing one PostgreSQL database and an MQTT broker; each charger is served by the node it is connected to. Needs storage.client: postgres.' })),
  // Checked by the meters adapter.
  meters: Type.Optional(Type.Array(Type.Unknown(), { description: 'Site energy meters on Modbus.' })),
});

export type CoreConfig = StaticDecode<typeof CoreConfigSchema>;
export type RawCoreConfig = Static<typeof CoreConfigSchema>;

export interface LoadedConfig {
  file: string;
  core: CoreConfig;
  dataDir: string;
  adminPassword: string | undefined;
}

/** The site config file this process reads. */
export function configFileOf(env: NodeJS.ProcessEnv): string {
  return env.CHARGEKEEPER_CONFIG ?? 'config/default.yaml';
}

const ENV_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces ${NAME} with the environment's value; a missing variable is a problem naming the key. */
function substituteEnv(value: unknown, path: string, env: NodeJS.ProcessEnv, found: ConfigProblem[]): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_RE, (_, name: string) => {
      const v = env[name];
      if (v === undefined) {
        found.push({ path, message: `environment variable ${name} is not set` });
        return '';
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, `${path}[${i}]`, env, found));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, path ? `${path}.${k}` : k, env, found)]),
    );
  }
  return value;
}

export function readConfigFile(file: string, env: NodeJS.ProcessEnv): { raw: Record<string, unknown>; problems: ConfigProblem[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { raw: {}, problems: [{ path: '(file)', message: `cannot read ${file}: ${(err as Error).message}` }] };
  }
  return parseConfigText(text, env);
}

/** The site config from its YAML text, ${NAME} taken from the environment. */
export function parseConfigText(text: string, env: NodeJS.ProcessEnv): { raw: Record<string, unknown>; problems: ConfigProblem[] } {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    return { raw: {}, problems: doc.errors.map((e) => ({ path: '(yaml)', message: e.message.split('\n')[0] ?? e.message })) };
  }
  const parsed: unknown = doc.toJS() ?? {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { raw: {}, problems: [{ path: '(root)', message: 'expected a mapping of sections (site, ocpp, plugins, ...)' }] };
  }
  const problems: ConfigProblem[] = [];
  const raw = substituteEnv(parsed, '', env, problems) as Record<string, unknown>;
  // plugins: with an empty value ("users:") means enabled with defaults.
  const plugins = raw.plugins;
  if (plugins && typeof plugins === 'object' && !Array.isArray(plugins)) {
    for (const [k, v] of Object.entries(plugins)) if (v === null) (plugins as Record<string, unknown>)[k] = {};
  } else if (plugins === null) {
    raw.plugins = {};
  }
  return { raw, problems };
}

/** Reads and validates the core's sections; plugin sections are validated by the plugin host. */
export function loadCoreConfig(env: NodeJS.ProcessEnv = process.env, text?: string): { config?: LoadedConfig; raw: Record<string, unknown>; problems: ConfigProblem[] } {
  const file = configFileOf(env);
  // A text is checked as the file would be (a change proposed in the settings UI).
  const { raw, problems } = text === undefined ? readConfigFile(file, env) : parseConfigText(text, env);
  if (problems.length) return { raw, problems };
  const result = decode<CoreConfig>(CoreConfigSchema, raw);
  const found = [...result.problems];
  const core = result.value;
  if (core) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: core.site.timezone });
    } catch {
      found.push({ path: 'site.timezone', message: `expected an IANA time zone like Europe/Berlin, got "${core.site.timezone}"` });
    }
    const rawStorage = (raw.storage ?? {}) as Record<string, unknown>;
    for (const key of ['keepMeterValues', 'thinMeterValuesAfter'] as const) {
      if (core.storage[key] < 7 * 24 * 3_600_000) {
        found.push({ path: `storage.${key}`, message: `expected at least 7d (diagnostics and open sessions need recent readings), got "${String(rawStorage[key])}"` });
      }
    }
    const every = core.storage.thinMeterValuesTo;
    if (every < 60_000 || 86_400_000 % every !== 0) {
      found.push({ path: 'storage.thinMeterValuesTo', message: `expected at least 1m and a divisor of a day (like 5m, 15m, 1h), got "${String(rawStorage.thinMeterValuesTo)}"` });
    }
    if (Array.isArray(core.http.trustProxy)) {
      core.http.trustProxy.forEach((entry, i) => {
        const problem = proxyEntryProblem(entry);
        if (problem) found.push({ path: `http.trustProxy.${i}`, message: problem });
      });
    }
    if (core.cluster && core.storage.client !== 'postgres') {
      found.push({ path: 'cluster', message: 'several nodes share one PostgreSQL database: set storage.client to postgres (SQLite is one node\'s file)' });
    }
    if (core.cluster && core.cluster.leaseTimeout < 2 * core.cluster.leaseRenewal) {
      found.push({ path: 'cluster.leaseTimeout', message: `expected at least twice cluster.leaseRenewal, got "${String((raw.cluster as Record<string, unknown>).leaseTimeout)}"` });
    }
    const security = core.ocpp.security;
    if (security && security.profile >= 2 && !core.http.tls) {
      found.push({ path: 'ocpp.security.profile', message: `expected http.tls (a certificate and key) with security profile ${security.profile}, got none` });
    }
    if (security && security.certificateValidity < 86_400_000) {
      found.push({ path: 'ocpp.security.certificateValidity', message: `expected at least 1d, got "${String(((raw.ocpp as Record<string, Record<string, unknown>> | undefined)?.security ?? {}).certificateValidity)}"` });
    }
    if (env.CHARGEKEEPER_ADMIN_PASSWORD !== undefined && env.CHARGEKEEPER_ADMIN_PASSWORD.length < MIN_ADMIN_PASSWORD) {
      found.push({ path: 'CHARGEKEEPER_ADMIN_PASSWORD', message: `expected at least ${MIN_ADMIN_PASSWORD} characters (it guards the whole site), got ${env.CHARGEKEEPER_ADMIN_PASSWORD.length}` });
    }
    if (env.CHARGEKEEPER_PORT !== undefined) {
      const port = Number(env.CHARGEKEEPER_PORT);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        found.push({ path: 'CHARGEKEEPER_PORT', message: `expected a port number 0-65535, got "${env.CHARGEKEEPER_PORT}"` });
      } else core.http.port = port;
    }
  }
  if (found.length || !core) return { raw, problems: found };
  return {
    raw,
    problems: [],
    config: { file, core, dataDir: env.CHARGEKEEPER_DATA_DIR ?? './data', adminPassword: env.CHARGEKEEPER_ADMIN_PASSWORD },
  };
}
