import { readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../core/plugin.js';
import { Duration, Strict } from '../../core/schema.js';
import { STAFF } from '../../core/types.js';
import { checkConfigKeys, checks } from './checks/index.js';
import { CheckRunner } from './runner.js';
import { DiagnosticsFiles } from './files.js';
import { FtpUploads } from './ftp.js';
import { migrations } from './migrations.js';
import { Prober } from './probes.js';
import { routes } from './routes.js';
import { FindingStore } from './store.js';

// Each check brings its own config keys (offlineAfter, bootLoop, …); they sit side by side in the section.
const configSchema = Strict({
  ...checkConfigKeys,
  maintenanceInterval: Duration({ default: '24h', description: 'How often every online charger is probed (its configuration read and checked), like 24h.' }),
  probeKeys: Type.Array(Type.String({ minLength: 1 }), {
    default: ['HeartbeatInterval', 'MeterValueSampleInterval', 'ClockAlignedDataInterval', 'MeterValuesSampledData',
      'AuthorizationCacheEnabled', 'LocalAuthListEnabled', 'LocalAuthorizeOffline', 'ConnectionTimeOut', 'WebSocketPingInterval'],
    description: 'Charger configuration keys the probe reads (GetConfiguration).',
  }),
  evaluateEvery: Duration({ default: '15s', description: 'Backstop: how often every time-based condition is evaluated again (each is also evaluated at its own deadline).' }),
  uploadBaseUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', 'x-expected': 'a URL like http://192.168.1.10:8080', description: 'Base URL chargers upload diagnostics to, like http://192.168.1.10:8080. Default: http.publicUrl.' })),
  uploadTokenTtl: Duration({ default: '2h', description: 'How long a diagnostics upload link stays valid, like 2h.' }),
  ftp: Strict({
    enabled: Type.Boolean({ default: false, description: 'Run an embedded FTP server for chargers that upload diagnostics over FTP only.' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 2121, description: 'FTP control port (passive data ports are picked from 1024-65535).' }),
    host: Type.String({ minLength: 1, default: '0.0.0.0', description: 'Address the FTP server listens on; 0.0.0.0 = every network interface.' }),
    publicUrl: Type.Optional(Type.String({ pattern: '^ftps?://[^\\s/]+(:\\d+)?/?$', 'x-expected': 'ftp://<address chargers reach>:<port>; default: the host of http.publicUrl and ftp.port', description: 'Upload address given to chargers, ftp://<address chargers reach>:<port>. Default: the host of http.publicUrl and ftp.port.' })),
    tls: Type.Optional(Strict({
      cert: Type.String({ minLength: 1, description: 'PEM certificate file for explicit FTPS (AUTH TLS).' }),
      key: Type.String({ minLength: 1, description: 'PEM private key file.' }),
    }, { description: 'Offer FTPS (explicit, AUTH TLS); leave out for plain FTP.' })),
  }, { default: {}, description: 'FTP/FTPS upload location for GetDiagnostics (one-time user and password per request).' }),
  checks: Strict(
    Object.fromEntries(Object.values(checks).map((c) => [c.id, Type.Optional(Strict({
      enabled: Type.Boolean({ default: true, description: 'Run this check; false turns it off.' }),
    }, { description: c.summary }))])),
    { default: {}, description: 'Checks by id; each is on unless enabled: false.' },
  ),
});

export default definePlugin({
  manifest: {
    name: 'diagnostics',
    version: '1.0.0',
    summary: 'Finds broken chargers: faults, offline, stuck sessions, meter problems; probes, health and uptime',
    config: configSchema,
  },
  migrations,
  register(ctx) {
    const store = new FindingStore(ctx.db, ctx.core.clock, (event, f) => ctx.emit(event, f));
    const enabled = Object.values(checks).filter((c) => ctx.config.checks[c.id]?.enabled !== false);
    const runner: CheckRunner = new CheckRunner(ctx, store, enabled, (id) => prober.probeSoon(id));
    runner.subscribe();
    const prober: Prober = new Prober({
      db: ctx.db, core: ctx.core, log: ctx.log,
      timeoutMs: () => ctx.config.probeTimeout,
      keys: () => ctx.config.probeKeys,
      onResult: (r) => runner.probed(r),
    });
    const files = new DiagnosticsFiles(ctx.db, ctx.core, () => ctx.config.uploadTokenTtl);
    const ftpConfig = ctx.config.ftp;
    const ftp = ftpConfig.enabled ? new FtpUploads({
      config: {
        ...ftpConfig,
        ...(ftpConfig.tls ? { tls: { cert: readFileSync(ftpConfig.tls.cert, 'utf8'), key: readFileSync(ftpConfig.tls.key, 'utf8') } } : {}),
      },
      files, log: ctx.log, publicHost: new URL(ctx.config.uploadBaseUrl ?? ctx.core.publicUrl).hostname,
    }) : null;
    ctx.on('diagnostics.status', (e) => files.onStatus(e.chargerId, e.status, e.requestId));

    for (const spec of routes({ ctx, store, prober, files, checks, ftp })) ctx.route(spec);
    ctx.page({ path: 'diagnostics', title: 'Diagnostics', component: 'DiagnosticsPage', roles: STAFF, icon: '⚕' });
    ctx.every('evaluate', ctx.config.evaluateEvery, () => runner.tick());
    ctx.every('maintenance', Math.min(60_000, ctx.config.maintenanceInterval), () => prober.runDue(ctx.config.maintenanceInterval));
    let runId: number | null = null;
    const alive = async () => {
      if (runId !== null) await ctx.db('diagnostics_runs').where({ id: runId }).update({ alive_at: ctx.core.clock.iso() });
    };
    ctx.every('alive', 60_000, alive);

    return {
      async start() {
        const now = ctx.core.clock.iso();
        const [row] = await ctx.db('diagnostics_runs').insert({ started_at: now, alive_at: now }).returning('id');
        runId = Number(typeof row === 'object' && row !== null ? (row as { id: unknown }).id : row);
        await store.load();
        await runner.start();
        await ftp?.start();
      },
      async stop() {
        runner.stop();
        await ftp?.stop();
        await prober.idle();
        await store.idle();
        await alive();
      },
    };
  },
});
