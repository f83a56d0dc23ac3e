import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ocppRpc from 'ocpp-rpc';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, baseConfig, runAppliance, type TestApp, useApp, writeConfig } from './kit/index.js';

const { RPCClient } = ocppRpc;
let t: TestApp | undefined;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
// Registered after the hook above so that it runs first: the app stops before its data dir is removed.
const apps = useApp();

describe('durability', () => {
  it('keeps chargers, sessions and statuses across a restart', async () => {
    t = await apps.start();
    const cp = await t.chargePoint('KEEP1');
    await cp.boot();
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'K', meterStart: 0, timestamp: new Date().toISOString() }) as { transactionId: number };
    await t.restart();
    const chargers = (await t.api('GET', '/chargers')).body;
    expect(chargers).toEqual([expect.objectContaining({ id: 'KEEP1', online: false, vendor: 'TestVendor', connectors: [expect.objectContaining({ status: 'Charging' })] })]);
    // The session opened before the restart is still open and can be stopped.
    const again = await t.chargePoint('KEEP1');
    await again.call('StopTransaction', { transactionId, meterStop: 4200, timestamp: new Date().toISOString() });
    expect((await t.api('GET', `/transactions/${transactionId}`)).body).toMatchObject({ energyWh: 4200 });
  });

  it('loses nothing that was answered when the process is killed with SIGKILL', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'chargekeeper-kill-'));
    dirs.push(dataDir);
    const base = baseConfig();
    const config = writeConfig(dataDir, { ...base, storage: { ...(base.storage as object), ...(await apps.storage(dataDir)) }, log: { level: 'info' } });
    const env = { CHARGEKEEPER_CONFIG: config, CHARGEKEEPER_DATA_DIR: dataDir, CHARGEKEEPER_ADMIN_PASSWORD: ADMIN_PASSWORD, CHARGEKEEPER_PORT: '0' };
    const proc = runAppliance(env);
    const port = await proc.listening;
    const cp = new RPCClient({ endpoint: `ws://127.0.0.1:${port}/ocpp`, identity: 'KILL1', protocols: ['ocpp1.6'], reconnect: false } as ConstructorParameters<typeof RPCClient>[0]);
    await cp.connect();
    await cp.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'KILLTAG', meterStart: 100, timestamp: new Date(Date.now() - 60_000).toISOString() }) as { transactionId: number };
    await Promise.all(Array.from({ length: 20 }, (_, i) => cp.call('MeterValues', {
      connectorId: 1, transactionId, meterValue: [{ timestamp: new Date(Date.now() - 50_000 + i * 1000).toISOString(), sampledValue: [{ value: String(100 + i * 10) }] }],
    })));
    await cp.call('StopTransaction', { transactionId, meterStop: 900, timestamp: new Date().toISOString(), reason: 'Local' });
    proc.child.kill('SIGKILL'); // right after the reply
    expect(await proc.exited).toBe(null);
    await cp.close({ force: true });

    t = await apps.start({ dataDir });
    const tx = (await t.api('GET', `/transactions/${transactionId}`)).body;
    expect(tx).toMatchObject({ idTag: 'KILLTAG', meterStartWh: 100, meterStopWh: 900, energyWh: 800, stopReason: 'Local' });
    expect(tx.meterValues).toHaveLength(20);
  });

  it('closes charger sockets with 1001 and exits 0 on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'chargekeeper-term-'));
    dirs.push(dataDir);
    const config = writeConfig(dataDir, { ...baseConfig(), log: { level: 'info' } });
    const proc = runAppliance({ CHARGEKEEPER_CONFIG: config, CHARGEKEEPER_DATA_DIR: dataDir, CHARGEKEEPER_PORT: '0' });
    const port = await proc.listening;
    const cp = new RPCClient({ endpoint: `ws://127.0.0.1:${port}/ocpp`, identity: 'TERM1', protocols: ['ocpp1.6'], reconnect: false } as ConstructorParameters<typeof RPCClient>[0]);
    await cp.connect();
    const closed = new Promise<number>((res) => cp.once('close', ({ code }: { code: number }) => res(code)));
    proc.child.kill('SIGTERM');
    expect(await closed).toBe(1001);
    expect(await proc.exited).toBe(0);
    // Without CHARGEKEEPER_ADMIN_PASSWORD a random one is printed once.
    expect(proc.output()).toMatch(/created the initial operator "admin" with password: \S+/);
  });
});
