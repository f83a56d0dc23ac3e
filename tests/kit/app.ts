import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ocppRpc from 'ocpp-rpc';
import { stringify } from 'yaml';
import { useTeardown } from './teardown.js';
import { siteParts } from '../../app/site.js';
import { boot, type App } from '../../core/boot.js';
import type { RegistryEntry } from '../../core/host.js';
import { Clock } from '../../core/clock.js';
import type { EventMap, EventName } from '../../core/events.js';
import { dropDatabase, PG_SERVER, postgresAdmin } from './postgres.js';

const { RPCClient } = ocppRpc;

export const ADMIN_PASSWORD = 'test-admin-pw';

export interface StartOptions {
  /** Merged over the base test config (sections replace whole keys at top level, except site/ocpp/http/storage which merge). */
  config?: Record<string, unknown>;
  /** Reuse a data dir (restart tests). */
  dataDir?: string;
  env?: Record<string, string>;
  /** Test-only plugins by config key (enable them under config.plugins). */
  extraPlugins?: Record<string, RegistryEntry>;
}

export interface ChargePointOptions {
  password?: string;
  /** false lets the test send payloads that break the schema, to see the server's CALLERROR. */
  strict?: boolean;
  callTimeoutMs?: number;
  /** The subprotocol it asks for (default ocpp1.6); boot() sends a 1.6 BootNotification either way. */
  protocol?: 'ocpp1.6' | 'ocpp2.0.1';
}

/** A real OCPP-J client over a real WebSocket. */
export type TestChargePoint = Omit<InstanceType<typeof RPCClient>, 'handle'> & {
  id: string;
  /** Answers a call from the server; return the reply (or a promise of it). */
  // any: each OCPP action has its own payload shape; tests read what they need.
  handle(method: string, fn: (call: { params: any; method: string }) => unknown): void;
  /** BootNotification with a test vendor/model; returns the server's reply. */
  boot(extra?: Record<string, unknown>): Promise<{ status: string; interval: number; currentTime: string }>;
};

export interface ApiResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestApp {
  app: App;
  url: string;
  port: number;
  dataDir: string;
  clock: Clock;
  logs: string[];
  login(username?: string, password?: string): Promise<string>;
  /** Fetches /api<path>; a string token or the admin's (default) is sent as Bearer. `token: null` sends none. */
  api<T = any>(method: string, path: string, opts?: { body?: unknown; token?: string | null; raw?: string; headers?: Record<string, string> }): Promise<ApiResult<T>>; // any: tests read arbitrary JSON
  chargePoint(id: string, opts?: ChargePointOptions): Promise<TestChargePoint>;
  /** Resolves with the next matching bus event. */
  waitFor<K extends EventName>(event: K, match?: (e: EventMap[K]) => boolean, timeoutMs?: number): Promise<EventMap[K]>;
  /** Every event of this name seen so far. */
  seen<K extends EventName>(event: K): Array<EventMap[K]>;
  restart(config?: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = base[k];
    out[k] = b && v && typeof b === 'object' && typeof v === 'object' && !Array.isArray(v) && ['site', 'ocpp', 'http', 'storage', 'log'].includes(k)
      ? { ...(b as object), ...(v as object) }
      : v;
  }
  return out;
}

export function baseConfig(): Record<string, unknown> {
  return {
    site: { name: 'Test Site', timezone: 'Europe/Berlin' },
    http: { host: '127.0.0.1', port: 0 },
    storage: { groupCommitWindow: '2ms', meterValuesCommitWindow: '2ms' },
    ocpp: { unknownChargers: 'accept', heartbeatInterval: '300s', callTimeout: '5s' },
    log: { level: 'warn' },
    plugins: {},
  };
}

/** Writes a site config YAML into dir and returns its path. */
export function writeConfig(dir: string, config: Record<string, unknown>): string {
  const file = join(dir, 'site.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

// CHARGEKEEPER_TEST_STORAGE=postgres runs each test app on a database of the machine's PostgreSQL instead of SQLite.
const databaseOf = async (dataDir: string) => `ck_s_${(await import('node:crypto')).createHash('sha1').update(dataDir).digest('hex').slice(0, 16)}`;

/** A database for one data dir (the same across a restart), made when missing. */
async function postgresFor(dataDir: string): Promise<Record<string, unknown>> {
  const database = await databaseOf(dataDir);
  await postgresAdmin(async (c) => {
    const found = await c.query('select 1 from pg_database where datname = $1', [database]);
    if (!found.rowCount) await c.query(`create database ${database}`);
  });
  return { ...PG_SERVER, database };
}

async function dropPostgres(dataDir: string): Promise<void> {
  await dropDatabase(await databaseOf(dataDir));
}

/** Boots the real appliance on a free loopback port with a temp SQLite file. */
export async function startApp(opts: StartOptions = {}): Promise<TestApp> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'chargekeeper-test-'));
  const ownsDir = !opts.dataDir;
  const clock = new Clock();
  const logs: string[] = [];
  const clients = new Set<InstanceType<typeof RPCClient>>();
  const recorded = new Map<string, unknown[]>();
  let config = merge(baseConfig(), opts.config ?? {});
  let app!: App;
  let tokenCache: string | null = null;
  let stopped = false;

  const usesPostgres = process.env.CHARGEKEEPER_TEST_STORAGE === 'postgres' && !(config.storage as { client?: string } | undefined)?.client;
  const launch = async () => {
    if (usesPostgres && (config.storage as { client?: string } | undefined)?.client !== 'postgres') {
      config = { ...config, storage: { ...(config.storage as object), client: 'postgres', connection: await postgresFor(dataDir) } };
    }
    const file = writeConfig(dataDir, config);
    app = await boot({ ...siteParts, plugins: { ...siteParts.plugins, ...opts.extraPlugins } }, {
      env: { CHARGEKEEPER_CONFIG: file, CHARGEKEEPER_DATA_DIR: dataDir, CHARGEKEEPER_ADMIN_PASSWORD: ADMIN_PASSWORD, ...opts.env },
      logSink: (line) => {
        logs.push(line);
        if (process.env.CHARGEKEEPER_TEST_LOG) process.stdout.write(`${line}\n`);
      },
      clock,
    });
    app.bus.onAny((event, payload) => {
      const list = recorded.get(event) ?? [];
      list.push(payload);
      recorded.set(event, list);
    });
    tokenCache = null;
  };
  try {
    await launch();
  } catch (err) {
    if (ownsDir) {
      rmSync(dataDir, { recursive: true, force: true });
      if (usesPostgres) await dropPostgres(dataDir).catch(() => undefined);
    }
    throw err;
  }

  const t: TestApp = {
    get app() { return app; },
    get url() { return app.url; },
    get port() { return app.port; },
    dataDir,
    clock,
    logs,
    async login(username = 'admin', password = ADMIN_PASSWORD) {
      const res = await t.api<{ token: string }>('POST', '/auth/login', { body: { username, password }, token: null });
      if (res.status !== 200) throw new Error(`login as ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.token;
    },
    async api(method, path, o = {}) {
      let token = o.token;
      if (token === undefined) token = tokenCache ??= await t.login();
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (token) headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      if (o.raw !== undefined) body = o.raw;
      else if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers['content-type'] = 'application/json';
      }
      const res = await fetch(`${app.url}/api${path}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try { parsed = text ? JSON.parse(text) : null; } catch { /* CSV, HTML */ }
      return { status: res.status, body: parsed as never, headers: res.headers };
    },
    async chargePoint(id, o = {}) {
      const client = new RPCClient({
        endpoint: `ws://127.0.0.1:${app.port}/ocpp`,
        identity: id,
        protocols: [o.protocol ?? 'ocpp1.6'],
        strictMode: o.strict ?? true,
        reconnect: false,
        callTimeoutMs: o.callTimeoutMs ?? 10_000,
        ...(o.password !== undefined ? { password: o.password } : {}),
      } as ConstructorParameters<typeof RPCClient>[0]) as unknown as TestChargePoint;
      client.id = id;
      client.boot = async (extra = {}) => client.call('BootNotification', {
        chargePointVendor: 'TestVendor', chargePointModel: 'TestModel', chargePointSerialNumber: `SN-${id}`,
        firmwareVersion: '1.0.0', ...extra,
      }) as Promise<{ status: string; interval: number; currentTime: string }>;
      await client.connect();
      clients.add(client as unknown as InstanceType<typeof RPCClient>);
      return client;
    },
    waitFor(event, match = () => true, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { off(); reject(new Error(`timed out waiting for ${event}`)); }, timeoutMs);
        const off = app.bus.onAny((name, payload) => {
          if (name === event && match(payload as never)) {
            clearTimeout(timer);
            off();
            resolve(payload as never);
          }
        });
      });
    },
    seen(event) {
      return (recorded.get(event) ?? []) as never[];
    },
    async restart(newConfig) {
      await closeClients();
      await app.stop();
      if (newConfig) config = merge(baseConfig(), newConfig);
      await launch();
    },
    async stop() {
      // A test may stop its app itself; the teardown of useApp() then finds it stopped.
      if (stopped) return;
      stopped = true;
      await closeClients();
      await app.stop();
      if (ownsDir) {
        rmSync(dataDir, { recursive: true, force: true });
        if (usesPostgres) await dropPostgres(dataDir);
      }
    },
  };
  const closeClients = async () => {
    await Promise.allSettled([...clients].map((c) => c.close({ code: 1000, force: true })));
    clients.clear();
  };
  return t;
}

export interface AppHandle {
  /** Boots the appliance as startApp() does; it is stopped by the scope's teardown. */
  start(opts?: StartOptions): Promise<TestApp>;
  /**
   * The storage section of a config a test writes itself (for a child process): nothing on SQLite; with
   * CHARGEKEEPER_TEST_STORAGE=postgres the database apps.start({ dataDir }) uses too, dropped by the teardown.
   */
  storage(dataDir: string): Promise<Record<string, unknown>>;
}

/**
 * For a describe block (or a whole file, at top level): apps started in a
 * test are stopped after that test, apps started in a beforeAll after the
 * block's last test.
 */
export function useApp(): AppHandle {
  const defer = useTeardown();
  return {
    async start(opts) {
      const t = await startApp(opts);
      defer(() => t.stop());
      return t;
    },
    async storage(dataDir) {
      if (process.env.CHARGEKEEPER_TEST_STORAGE !== 'postgres') return {};
      const connection = await postgresFor(dataDir);
      defer(() => dropPostgres(dataDir));
      return { client: 'postgres', connection };
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value or the time runs out. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 5000, stepMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await sleep(stepMs);
  }
}
