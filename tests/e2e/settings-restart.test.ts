import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ocppRpc from 'ocpp-rpc';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, baseConfig, runAppliance, type Running, writeConfig } from '../kit/index.js';

const { RPCClient } = ocppRpc;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0)) fn();
});

/** A port free now: the restarted appliance must come back on the same one. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as { port: number };
  await new Promise((res) => server.close(res));
  return port;
}

async function waitForOutput(proc: Running, re: RegExp, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!re.test(proc.output())) {
    if (Date.now() > until) throw new Error(`no ${re} in:\n${proc.output()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('installer console: a core setting takes effect after a restart from the UI', () => {
  it('restarts in place when asked, and chargers then get the new heartbeat interval', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'chargekeeper-restart-'));
    const port = await freePort();
    const config = writeConfig(dataDir, { ...baseConfig(), log: { level: 'info' } });
    const proc = runAppliance({ CHARGEKEEPER_CONFIG: config, CHARGEKEEPER_DATA_DIR: dataDir, CHARGEKEEPER_ADMIN_PASSWORD: ADMIN_PASSWORD, CHARGEKEEPER_PORT: String(port) });
    cleanups.push(() => {
      proc.child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    });
    await proc.listening;
    const base = `http://127.0.0.1:${port}/api`;
    const login = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
    const { token } = await login.json() as { token: string };
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: await res.json() as Record<string, unknown> };
    };
    expect((await call('GET', '/settings')).body).toMatchObject({ canRestart: true, restartPending: false });
    const put = await call('PUT', '/settings/sections/ocpp', { value: { heartbeatInterval: '120s' } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({ applies: 'restart', restartPending: true });

    const cp = new RPCClient({ endpoint: `ws://127.0.0.1:${port}/ocpp`, identity: 'RESTART1', protocols: ['ocpp1.6'], reconnect: false } as ConstructorParameters<typeof RPCClient>[0]);
    await cp.connect();
    const before = await cp.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' }) as { interval: number };
    expect(before.interval).toBe(300);
    const closed = new Promise<number>((res) => cp.once('close', ({ code }: { code: number }) => res(code)));

    expect((await call('POST', '/settings/restart')).status).toBe(202);
    // Chargers are told the server goes away, as on a service restart.
    expect(await closed).toBe(1001);
    await waitForOutput(proc, /listening on[\s\S]*restarting to take the new site config[\s\S]*listening on/);
    expect(proc.child.exitCode).toBe(null);

    const again = new RPCClient({ endpoint: `ws://127.0.0.1:${port}/ocpp`, identity: 'RESTART1', protocols: ['ocpp1.6'], reconnect: false } as ConstructorParameters<typeof RPCClient>[0]);
    await again.connect();
    const after = await again.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' }) as { interval: number };
    expect(after.interval).toBe(120);
    await again.close({ force: true });
    const relogin = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
    expect(relogin.status).toBe(200);
  });
});
