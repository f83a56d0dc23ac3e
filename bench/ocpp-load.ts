/**
 * `npm run bench`: starts the appliance and a bare ocpp-rpc server in their
 * own processes and drives simulated OCPP 1.6J chargers at both from this
 * process, over real WebSockets on loopback. Prints a Markdown report and
 * writes it to bench/results/last-run.md.
 *
 * The load is hand-framed (bench/framed.ts: plain ws, no validation), and
 * the generator's own CPU time per call is printed beside the servers', to
 * show the servers saturate before the generator does.
 *
 * Phases: saturation, plugins, latency, flood, idle, disk (bytes written per
 * MeterValues at a site's pace), alerts (the offline alert's first notice per
 * channel after a socket closes: bench/alert-latency.ts), allocate (load
 * balancing shares: bench/allocate.ts), history (a two-year site's pages:
 * bench/history.ts). Process and /proc helpers: bench/measure.ts.
 *
 * Options: --chargers 500 --seconds 10 --latency-chargers 1000 --rate 2000
 *          --idle-chargers 3000 --skip-idle --only saturation,plugins,latency,flood,idle,disk,alerts,allocate,history
 *          --alert-disconnects 60 --alert-interval 200 (ms between two closes)
 *          --alert-offline-after 3 (diagnostics.offlineAfter, seconds)
 *          --history-days 730 --history-chargers 20 --history-calls 20 --history-keep (bench/history.ts)
 *          --profile (writes the appliance's CPU profile to bench/results/profile/)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { alertLatency, alertReport } from './alert-latency.js';
import { allocateBench } from './allocate.js';
import { historyBench, historyOptions } from './history.js';
import { FramedCharger, meterValuesJson } from './framed.js';
import { cpuMs, ioBytes, Latencies, ownCpuMs, rssKb, startProcess, type Server } from './measure.js';

type Client = FramedCharger;
const root = resolve(import.meta.dirname, '..');
const ALL_PHASES = ['saturation', 'plugins', 'latency', 'flood', 'idle', 'disk', 'alerts', 'allocate', 'history'];
const { values: args } = parseArgs({
  options: {
    chargers: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '10' },
    'latency-chargers': { type: 'string', default: '1000' },
    rate: { type: 'string', default: '2000' },
    'idle-chargers': { type: 'string', default: '3000' },
    'skip-idle': { type: 'boolean', default: false },
    'alert-disconnects': { type: 'string', default: '60' },
    'alert-interval': { type: 'string', default: '200' },
    'alert-offline-after': { type: 'string', default: '3' },
    only: { type: 'string', default: ALL_PHASES.join(',') },
    profile: { type: 'boolean', default: false },
    ...historyOptions,
  },
});
const N = Number(args.chargers);
const SECONDS = Number(args.seconds);
const LAT_N = Number(args['latency-chargers']);
const RATE = Number(args.rate);
const IDLE_N = Number(args['idle-chargers']);
const PHASES = new Set(args.only.split(',').map((p) => p.trim()));
if (args['skip-idle']) PHASES.delete('idle');

const ADMIN_PASSWORD = 'bench-admin-pw';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The plugins a real site runs, for the "every plugin on" figures. */
const SITE_PLUGINS = {
  users: {}, billing: { currency: 'EUR' }, diagnostics: {}, alerts: { channels: [] },
};

function startAppliance(dataDir: string, port = 0, plugins: Record<string, unknown> = {}, ocpp: Record<string, unknown> = {}): Promise<Server> {
  const config = join(dataDir, 'bench.yaml');
  writeFileSync(config, stringify({
    site: { name: 'Benchmark' }, http: { host: '127.0.0.1' },
    ocpp: { unknownChargers: 'accept', heartbeatInterval: '300s', ...ocpp }, log: { level: 'info' }, plugins,
  }));
  // As `npm start` runs it: the esbuild-built dist/, no TypeScript loader.
  const profile = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(root, 'bench', 'results', 'profile')}`] : [];
  return startProcess('chargekeeper', [...profile, 'dist/app/main.js'], {
    CHARGEKEEPER_CONFIG: config, CHARGEKEEPER_DATA_DIR: dataDir, CHARGEKEEPER_PORT: String(port), CHARGEKEEPER_ADMIN_PASSWORD: ADMIN_PASSWORD,
  });
}

const connect = (port: number, id: string): Promise<Client> => FramedCharger.open(port, id);

/** Boots a fleet and opens one session per charger; returns the clients and their transaction ids. */
async function fleet(port: number, n: number, prefix: string, lat?: Latencies): Promise<Array<{ c: Client; tx: number }>> {
  const out: Array<{ c: Client; tx: number }> = [];
  const batch = 100;
  for (let i = 0; i < n; i += batch) {
    out.push(...await Promise.all(Array.from({ length: Math.min(batch, n - i) }, async (_, j) => {
      const id = `${prefix}${i + j}`;
      const c = await connect(port, id);
      const call = <T>(action: string, params: unknown) => (lat ? lat.time(action, () => c.call(action, params)) : c.call(action, params)) as Promise<T>;
      await call('BootNotification', { chargePointVendor: 'Bench', chargePointModel: 'Sim' });
      await call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: new Date().toISOString() });
      const r = await call<{ transactionId: number }>('StartTransaction', { connectorId: 1, idTag: `T${id}`, meterStart: 0, timestamp: new Date().toISOString() });
      return { c, tx: r?.transactionId ?? 0 };
    })));
  }
  return out;
}

/** Runs a closed loop of MeterValues on every charger of a fleet until stop() is called; counts replies. */
function closedLoop(cps: Array<{ c: Client; tx: number; wh?: number }>): { done: () => number; stop: () => Promise<void> } {
  let done = 0;
  let running = true;
  const loops = cps.map(async (cp, i) => {
    // The register carries on from the last round: one that went backwards is a meter fault the diagnostics report.
    cp.wh ??= i;
    while (running) {
      cp.wh += 10;
      await cp.c.callRaw('MeterValues', meterValuesJson(cp.tx, cp.wh));
      done += 1;
    }
  });
  return { done: () => done, stop: async () => { running = false; await Promise.allSettled(loops); } };
}

/**
 * Both servers take turns under the same closed loop, in short rounds, so
 * that the machine's own swings in speed (other tenants, frequency scaling)
 * fall on both alike; the ratio compares the sums.
 */
interface Saturation { bareRate: number; appRate: number; bareCpuUs: number; appCpuUs: number; bareGenUs: number; appGenUs: number; bareBusy: number; bareGenBusy: number }

/**
 * Waits until a server has settled after a fleet's boot (plugins answer boots with their own calls, such as
 * local list updates, and check new chargers): below 5 % of a core over half a second, or 60 s at most.
 * Measuring before that would count the boot storm as the cost of MeterValues.
 */
async function quiet(server: Server): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < 60_000) {
    const cpu0 = cpuMs(server.child.pid!);
    await sleep(500);
    if (cpuMs(server.child.pid!) - cpu0 < 25) break;
  }
  return performance.now() - t0;
}

async function saturation(bare: Server, app: Server, prefix: string): Promise<Saturation> {
  const servers = [bare, app];
  const fleets = [await fleet(bare.port, N, `${prefix}B`), await fleet(app.port, N, `${prefix}A`)];
  const settledMs = await Promise.all(servers.map(quiet));
  process.stderr.write(`settled after ${settledMs.map((ms) => (ms / 1000).toFixed(1)).join(' s, ')} s\n`);
  const calls = [0, 0];
  const ms = [0, 0];
  const cpu = [0, 0];
  const gen = [0, 0];
  const rounds = Math.max(1, Math.round(SECONDS / 2));
  for (let round = 0; round < rounds; round++) {
    for (const k of round % 2 ? [1, 0] : [0, 1]) {
      const loop = closedLoop(fleets[k]!);
      await sleep(500); // ramp-up, not counted
      const start = loop.done();
      const t0 = performance.now();
      const cpu0 = cpuMs(servers[k]!.child.pid!);
      const gen0 = ownCpuMs();
      await sleep((SECONDS * 1000) / rounds);
      calls[k] = calls[k]! + loop.done() - start;
      ms[k] = ms[k]! + performance.now() - t0;
      cpu[k] = cpu[k]! + cpuMs(servers[k]!.child.pid!) - cpu0;
      gen[k] = gen[k]! + ownCpuMs() - gen0;
      await loop.stop();
    }
  }
  await Promise.all(fleets.flat().map(({ c }) => c.close()));
  return {
    bareRate: (calls[0]! * 1000) / ms[0]!, appRate: (calls[1]! * 1000) / ms[1]!,
    bareCpuUs: (cpu[0]! * 1000) / calls[0]!, appCpuUs: (cpu[1]! * 1000) / calls[1]!,
    bareGenUs: (gen[0]! * 1000) / calls[0]!, appGenUs: (gen[1]! * 1000) / calls[1]!,
    // Share of one core each used while the bare server was driven: a server near 100 % is the limit.
    bareBusy: cpu[0]! / ms[0]!, bareGenBusy: gen[0]! / ms[0]!,
  };
}

async function latency(server: Server, prefix: string): Promise<Latencies> {
  const lat = new Latencies();
  const cps = await fleet(server.port, LAT_N, prefix, lat);
  const perCharger = RATE / LAT_N;
  const intervalMs = 1000 / perCharger;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(cps.map(async ({ c, tx }, i) => {
    await sleep(Math.random() * intervalMs);
    let wh = i;
    let next = performance.now();
    while (performance.now() < end) {
      wh += 10;
      void lat.time('MeterValues', () => c.callRaw('MeterValues', meterValuesJson(tx, wh)));
      next += intervalMs;
      await sleep(Math.max(0, next - performance.now()));
    }
    await sleep(200);
    await lat.time('StopTransaction', () => c.call('StopTransaction', { transactionId: tx, meterStop: wh, timestamp: new Date().toISOString() }));
  }));
  await Promise.all(cps.map(({ c }) => c.close()));
  return lat;
}

/**
 * A flood from one charger must not slow the others: bystanders send MeterValues at a steady rate while
 * one charger (reconnecting whenever it is closed) sends Heartbeats as fast as it can, 50 in flight.
 */
async function flood(server: Server): Promise<{ quiet: Latencies; flooded: Latencies; answered: number; refused: number; reconnects: number }> {
  const BYSTANDERS = 200;
  const cps = await fleet(server.port, BYSTANDERS, 'FB');
  const windowMs = (SECONDS * 1000) / 2;
  const steady = async (lat: Latencies) => {
    const end = performance.now() + windowMs;
    await Promise.all(cps.map(async ({ c, tx }, i) => {
      await sleep(Math.random() * 500);
      let wh = i;
      while (performance.now() < end) {
        wh += 10;
        void lat.time('MeterValues', () => c.callRaw('MeterValues', meterValuesJson(tx, wh)));
        await sleep(500);
      }
    }));
    await sleep(300);
  };
  const quiet = new Latencies();
  await steady(quiet);
  let answered = 0;
  let refused = 0;
  let reconnects = 0;
  let flooding = true;
  const attacker = (async () => {
    while (flooding) {
      let c: Client;
      try { c = await connect(server.port, 'FLOODER'); } catch { await sleep(50); continue; }
      reconnects++;
      let open = true;
      await Promise.all(Array.from({ length: 50 }, async () => {
        while (flooding && open) {
          try { await c.callRaw('Heartbeat', '{}'); answered++; } catch (err) {
            refused++;
            if (String(err).includes('socket closed')) open = false;
          }
        }
      }));
      await c.close();
    }
  })();
  const flooded = new Latencies();
  await steady(flooded);
  flooding = false;
  await attacker;
  await Promise.all(cps.map(({ c }) => c.close()));
  return { quiet, flooded, answered, refused, reconnects };
}

async function idleFleet(server: Server, prefix: string): Promise<{ clients: Client[]; rssMb: number }> {
  const clients: Client[] = [];
  for (let i = 0; i < IDLE_N; i += 200) {
    clients.push(...await Promise.all(Array.from({ length: Math.min(200, IDLE_N - i) }, async (_, j) => {
      const c = await connect(server.port, `${prefix}${i + j}`);
      await c.call('BootNotification', { chargePointVendor: 'Bench', chargePointModel: 'Idle' });
      return c;
    })));
  }
  await sleep(3000);
  if (global.gc) global.gc();
  return { clients, rssMb: rssKb(server.child.pid!) / 1024 };
}

/** After a restart every charger reconnects with a little jitter, as real ones do after a power cut. */
async function reconnectStorm(port: number, n: number, prefix: string): Promise<{ seconds: number; failures: number; accepted: number }> {
  const t0 = performance.now();
  let failures = 0;
  let accepted = 0;
  const clients: Client[] = [];
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    await sleep(Math.random() * 2000);
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        const c = await connect(port, `${prefix}${i}`);
        clients.push(c);
        const r = await c.call('BootNotification', { chargePointVendor: 'Bench', chargePointModel: 'Idle' }) as { status: string };
        if (r.status === 'Accepted') accepted += 1;
        return;
      } catch {
        failures += 1;
        await sleep(500 + Math.random() * 1000);
      }
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(clients.map((c) => c.close()));
  return { seconds, failures, accepted };
}

/**
 * What the SD card pays per MeterValues at a site's pace rather than under saturation: 20 chargers, each sending
 * one every 2 s at its own moment, so almost every message is its own commit (as at a real site, where they
 * come a minute apart). Counts the bytes the appliance process wrote while the messages came.
 */
async function diskPerMeterValues(server: Server, seconds: number): Promise<{ messages: number; disk: number; written: number }> {
  const cps = await fleet(server.port, 20, 'D');
  await quiet(server);
  const io0 = ioBytes(server.child.pid!);
  let messages = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(cps.map(async ({ c, tx }, i) => {
    await sleep(Math.random() * 2000);
    let wh = i;
    while (performance.now() < end) {
      wh += 10;
      await c.callRaw('MeterValues', meterValuesJson(tx, wh));
      messages += 1;
      await sleep(2000);
    }
  }));
  const io1 = ioBytes(server.child.pid!);
  await Promise.all(cps.map(({ c }) => c.close()));
  return { messages, disk: (io1.disk - io0.disk) / messages, written: (io1.written - io0.written) / messages };
}

async function main(): Promise<void> {
  const lines: string[] = [];
  const log = (s = '') => { lines.push(s); process.stdout.write(`${s}\n`); };
  const dataDir = mkdtempSync(join(tmpdir(), 'chargekeeper-bench-'));
  execFileSync(process.execPath, [join(root, 'scripts', 'build-server.mjs')], { cwd: root, stdio: 'ignore' });
  log(`# ChargeKeeper OCPP benchmark — ${new Date().toISOString().slice(0, 16)}Z`);
  log(`Node ${process.version}, ${(await import('node:os')).cpus().length} cores; server and load in separate processes on loopback.`);
  log();

  let bare = await startProcess('bare', ['bench/bare-server.mjs', '0'], {});
  let app = await startAppliance(dataDir);
  log(`Startup, process spawn to listening: ChargeKeeper ${app.startupMs.toFixed(0)} ms (node dist/app/main.js, migrations included), bare ${bare.startupMs.toFixed(0)} ms.`);
  log();

  const reportSaturation = (title: string, r: Saturation) => {
    log(title);
    log('| server | calls/s | ratio | server CPU per call | ratio | generator CPU per call |');
    log('| --- | ---: | ---: | ---: | ---: | ---: |');
    log(`| bare ocpp-rpc (stores nothing) | ${r.bareRate.toFixed(0)} | 100 % | ${r.bareCpuUs.toFixed(0)} µs | 1.0× | ${r.bareGenUs.toFixed(0)} µs |`);
    log(`| ChargeKeeper (durable before reply) | ${r.appRate.toFixed(0)} | ${((r.appRate / r.bareRate) * 100).toFixed(0)} % | ${r.appCpuUs.toFixed(0)} µs | ${(r.appCpuUs / r.bareCpuUs).toFixed(1)}× | ${r.appGenUs.toFixed(0)} µs |`);
    log(`While driving the bare server it used ${(r.bareBusy * 100).toFixed(0)} % of a core and the generator ${(r.bareGenBusy * 100).toFixed(0)} %: the server is the limit.`);
    log();
  };
  if (PHASES.has('saturation')) {
    reportSaturation(`## Saturation, core only: ${N} chargers, closed loop of MeterValues (4 sampled values each), ${SECONDS} s each, in alternating rounds`, await saturation(bare, app, 'S'));
  }

  if (PHASES.has('plugins')) {
    const withPlugins = await startAppliance(mkdtempSync(join(tmpdir(), 'chargekeeper-bench-')), 0, SITE_PLUGINS);
    reportSaturation(`## Saturation, every plugin on (users, billing, diagnostics, alerts): ${N} chargers, as above`, await saturation(bare, withPlugins, 'P'));
    await withPlugins.stop();
  }

  if (PHASES.has('latency')) {
    log(`## Latency: ${LAT_N} chargers, ${RATE} MeterValues/s offered for ${SECONDS} s (after boot, status, start)`);
    const lat = await latency(app, 'LA');
    log('| action | calls | p50 ms | p99 ms | max ms |');
    log('| --- | ---: | ---: | ---: | ---: |');
    for (const row of lat.rows()) log(row);
    log(`Errors: ${lat.errors}; worst p99 ${lat.p99().toFixed(1)} ms.`);
    log();
  }

  if (PHASES.has('flood')) {
    log(`## Flood: 200 chargers send MeterValues every 0.5 s; then one charger floods Heartbeats (50 in flight, reconnecting when closed)`);
    const f = await flood(app);
    log('| bystander MeterValues | calls | p50 ms | p99 ms | max ms |');
    log('| --- | ---: | ---: | ---: | ---: |');
    for (const row of f.quiet.rows()) log(row.replace('| MeterValues', '| without flood'));
    for (const row of f.flooded.rows()) log(row.replace('| MeterValues', '| during flood'));
    log(`Flooding charger: ${f.answered} heartbeats answered, ${f.refused} refused (rate limit ${50}/s, 10 waiting), socket closed and reopened ${f.reconnects - 1} times; bystander errors ${f.quiet.errors + f.flooded.errors}.`);
    log();
  }

  if (PHASES.has('idle')) {
    log(`## ${IDLE_N} idle chargers connected, then a server restart`);
    // Fresh processes for both, so memory reflects idle connections, not the load phases' high-water mark.
    await Promise.all([app.stop(), bare.stop()]);
    [app, bare] = await Promise.all([startAppliance(dataDir), startProcess('bare', ['bench/bare-server.mjs', '0'], {})]);
    const bareIdle = await idleFleet(bare, 'IB');
    await Promise.all(bareIdle.clients.map((c) => c.close()));
    const appIdle = await idleFleet(app, 'IA');
    log('| server | RSS MB | ratio |');
    log('| --- | ---: | ---: |');
    log(`| bare ocpp-rpc | ${bareIdle.rssMb.toFixed(0)} | 1.00 |`);
    log(`| ChargeKeeper | ${appIdle.rssMb.toFixed(0)} | ${(appIdle.rssMb / bareIdle.rssMb).toFixed(2)} |`);
    await Promise.all(appIdle.clients.map((c) => c.close()));
    const port = app.port;
    await app.stop();
    app = await startAppliance(dataDir, port);
    const storm = await reconnectStorm(app.port, IDLE_N, 'IA');
    log();
    log(`Reconnect storm after restart: ${storm.accepted}/${IDLE_N} chargers reconnected and booted Accepted in ${storm.seconds.toFixed(1)} s (0–2 s jitter per charger), ${storm.failures} failed attempts.`);
    log();
  }

  if (PHASES.has('disk')) {
    log('## Bytes written per MeterValues at a site\'s pace: 20 chargers, one each every 2 s (4 sampled values), 30 s, durable before reply');
    log('| appliance | messages | to storage (write_bytes) per message | passed to write() per message |');
    log('| --- | ---: | ---: | ---: |');
    for (const [name, plugins] of [['core only', {}], ['every plugin on', SITE_PLUGINS]] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'chargekeeper-bench-'));
      const server = await startAppliance(dir, 0, plugins);
      const r = await diskPerMeterValues(server, 30);
      log(`| ${name} | ${r.messages} | ${(r.disk / 1024).toFixed(1)} KB | ${(r.written / 1024).toFixed(1)} KB |`);
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    log('The figures are the write-ahead log and its fsyncs; a checkpoint later writes each changed page once more into the database file.');
    log();
  }

  if (PHASES.has('alerts')) {
    const disconnects = Number(args['alert-disconnects']);
    const offlineAfterMs = Number(args['alert-offline-after']) * 1000;
    log(`## Offline alerts: ${disconnects} sockets closed one at a time, first notice per channel (offlineAfter ${offlineAfterMs / 1000} s, target ≤ offlineAfter + 2 s at p99)`);
    // An appliance of its own, with its own data dir: the chargers and alerts of other phases stay out of it.
    const alertDir = mkdtempSync(join(tmpdir(), 'chargekeeper-bench-'));
    const r = await alertLatency((plugins) => startAppliance(alertDir, 0, plugins), {
      disconnects, intervalMs: Number(args['alert-interval']), offlineAfterMs,
      timeoutMs: offlineAfterMs + 15_000, adminPassword: ADMIN_PASSWORD,
    });
    for (const line of alertReport(r)) log(line);
    log();
    rmSync(alertDir, { recursive: true, force: true });
  }

  // Pure computation in this process: the load balancer's fair shares for a 200-connector site (bench/allocate.ts).
  if (PHASES.has('allocate')) allocateBench(log);

  // A two-year site's database and every operator page's calls against it (bench/history.ts).
  if (PHASES.has('history')) await historyBench({ start: (dir, plugins) => startAppliance(dir, 0, plugins), adminPassword: ADMIN_PASSWORD, log, args });

  await Promise.all([app.stop(), bare.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
  // Only a run of every phase replaces the figures the README quotes.
  const report = ALL_PHASES.every((p) => PHASES.has(p)) ? 'last-run.md' : 'partial-run.md';
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', report), `${lines.join('\n')}\n`);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
