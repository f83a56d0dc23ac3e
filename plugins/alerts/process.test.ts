import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ocppRpc from 'ocpp-rpc';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, baseConfig, eventually, freePort, sleep, type TestApp, useApp, usePeers, writeConfig } from '../../tests/kit/index.js';

const repo = resolve(import.meta.dirname, '../..');
// npx + tsx compile the appliance on start: seconds on a busy 2-core box.
const SPAWN_TIMEOUT_MS = 90_000;
let t: TestApp | undefined;
let child: ChildProcess | undefined;
// Teardown runs newest first: the child process ends, then the app stops, then the peers and dirs go.
const peers = usePeers();
const apps = useApp();
afterEach(() => {
  // The real appliance runs in its own process group (npx → tsx → node): end that group only.
  if (child?.pid && child.exitCode === null) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ } }
  child = undefined;
});

function appliance(dir: string, config: Record<string, unknown>, port: number): { proc: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
  const file = writeConfig(dir, config);
  let err = '';
  const proc = spawn('npx', ['tsx', 'app/main.ts'], {
    cwd: repo, detached: true, stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CHARGEKEEPER_CONFIG: file, CHARGEKEEPER_DATA_DIR: dir, CHARGEKEEPER_PORT: String(port), CHARGEKEEPER_ADMIN_PASSWORD: ADMIN_PASSWORD },
  });
  proc.stderr!.on('data', (c: Buffer) => { err += c.toString('utf8'); });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return { proc, exited, stderr: () => err };
}

describe('alerts across a crash', () => {
  it('delivers a notification that was pending at kill -9 after the restart, exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chargekeeper-alerts-crash-'));
    peers.defer(() => rmSync(dir, { recursive: true, force: true }));
    const hookPort = await freePort();
    const port = await freePort();
    const plugins = { alerts: { channels: [{ name: 'hook', type: 'webhook', url: `http://127.0.0.1:${hookPort}/hook`, timeout: '2s' }] } };
    const base0 = baseConfig();
    const storage = { ...(base0.storage as object), ...(await apps.storage(dir)) };
    const config = { ...base0, storage, http: { host: '127.0.0.1', port }, ocpp: { unknownChargers: 'pending' }, plugins };
    const app = appliance(dir, config, port);
    child = app.proc;
    const base = `http://127.0.0.1:${port}/api`;
    await eventually(async () => (await fetch(`${base}/health`)).ok, 60_000, 200);

    // A new charger waiting for approval raises an alert; the webhook peer is down, so its notice stays in the outbox.
    const cp = new ocppRpc.RPCClient({ endpoint: `ws://127.0.0.1:${port}/ocpp`, identity: 'NEW1', protocols: ['ocpp1.6'], reconnect: false } as ConstructorParameters<typeof ocppRpc.RPCClient>[0]);
    await cp.connect();
    const { token } = await (await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) })).json() as { token: string };
    const waiting = await eventually(async () => {
      const rows = await (await fetch(`${base}/alerts/deliveries`, { headers: { authorization: `Bearer ${token}` } })).json() as Array<{ status: string; attempts: number }>;
      return rows.length === 1 && rows[0]!.status === 'failed' ? rows[0] : null;
    }, 10_000);
    expect(waiting).toMatchObject({ status: 'failed', attempts: 1 });
    await cp.close({ code: 1000, force: true }).catch(() => undefined);
    process.kill(-child.pid!, 'SIGKILL');
    await app.exited;

    const hook = await peers.receiver(hookPort);
    t = await apps.start({ dataDir: dir, config: { ocpp: { unknownChargers: 'pending' }, plugins } });
    await t.clock.advance(6_000);
    await eventually(() => hook.calls.length === 1);
    expect(hook.calls[0]!.json).toMatchObject({ kind: 'charger-pending', chargerId: 'NEW1', notice: 'raised' });

    await t.restart();
    await t.clock.advance(10 * 60_000);
    await sleep(300);
    expect(hook.calls).toHaveLength(1);
    expect((await t.api('GET', '/alerts/deliveries')).body).toEqual([expect.objectContaining({ status: 'sent', attempts: 2 })]);
  }, SPAWN_TIMEOUT_MS);

  it('refuses to start with an unknown channel type: exit code 2 naming the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chargekeeper-alerts-config-'));
    peers.defer(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const app = appliance(dir, { ...baseConfig(), plugins: { alerts: { channels: [
      { name: 'a', type: 'webhook', url: 'http://127.0.0.1:9/x' },
      { name: 'b', type: 'email', smtp: { host: '127.0.0.1' }, from: 'a@b.c', to: ['x@y.z'] },
      { name: 'c', type: 'pager', number: 5 },
    ] } } }, port);
    child = app.proc;
    expect(await app.exited).toBe(2);
    expect(app.stderr()).toContain('plugins.alerts.channels[2].type: expected one of email, mqtt, webhook, sms, webpush, got "pager"');
  }, SPAWN_TIMEOUT_MS);
});
