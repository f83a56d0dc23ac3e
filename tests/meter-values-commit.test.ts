import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ocppRpc from 'ocpp-rpc';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, baseConfig, runAppliance, useApp, writeConfig } from './kit/index.js';

const { RPCClient } = ocppRpc;
type Client = InstanceType<typeof RPCClient>;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const apps = useApp();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const reading = (transactionId: number, wh: number) => ({
  connectorId: 1, transactionId, meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
});

async function charger(port: number, id: string): Promise<{ cp: Client; transactionId: number }> {
  const cp = new RPCClient({ endpoint: `ws://127.0.0.1:${port}/ocpp`, identity: id, protocols: ['ocpp1.6'], reconnect: false } as ConstructorParameters<typeof RPCClient>[0]);
  await cp.connect();
  await cp.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
  const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: `T${id}`, meterStart: 0, timestamp: new Date().toISOString() }) as { transactionId: number };
  return { cp, transactionId };
}

describe('MeterValues at a site\'s pace share commits (storage.meterValuesCommitWindow)', () => {
  it('commits readings that come within the window together, other writes at once, and each reply only after its commit', async () => {
    const t = await apps.start({ config: { storage: { groupCommitWindow: '2ms', meterValuesCommitWindow: '600ms' } } });
    const cps = await Promise.all(['MV1', 'MV2', 'MV3', 'MV4', 'MV5', 'MV6'].map((id) => charger(t.port, id)));
    await t.app.writer.flush();
    const before = { ...t.app.writer.stats };
    // One message per charger, 40 ms apart, as chargers at a site send theirs: far fewer commits than messages.
    const replies: Array<Promise<unknown>> = [];
    for (const [i, { cp, transactionId }] of cps.entries()) {
      replies.push(cp.call('MeterValues', reading(transactionId, 100 + i)));
      await sleep(40);
    }
    await Promise.all(replies);
    expect(t.app.writer.stats.writes - before.writes).toBe(6);
    expect(t.app.writer.stats.commits - before.commits).toBeLessThanOrEqual(2);
    // Every answered reading is stored by the time its reply came.
    const stored = await t.app.db('meter_values').whereIn('transaction_id', cps.map((c) => c.transactionId)).count({ n: '*' }).first() as { n: number | string };
    expect(Number(stored.n)).toBe(6);

    // A write that is not a reading does not wait for the readings' window: it takes them along.
    const mark = { ...t.app.writer.stats };
    const slow = cps[0]!.cp.call('MeterValues', reading(cps[0]!.transactionId, 200));
    await sleep(20);
    await cps[1]!.cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'SuspendedEV' });
    await slow;
    expect(t.app.writer.stats.commits - mark.commits).toBe(1);
    expect(t.app.writer.stats.writes - mark.writes).toBe(2);
    for (const { cp } of cps) await cp.close({ force: true });
  });

  it('loses no answered reading when the process is killed with SIGKILL while readings wait for company', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'chargekeeper-patient-'));
    dirs.push(dataDir);
    const base = baseConfig();
    const config = writeConfig(dataDir, { ...base, storage: { ...(base.storage as object), meterValuesCommitWindow: '500ms', ...(await apps.storage(dataDir)) }, log: { level: 'info' } });
    const proc = runAppliance({ CHARGEKEEPER_CONFIG: config, CHARGEKEEPER_DATA_DIR: dataDir, CHARGEKEEPER_ADMIN_PASSWORD: ADMIN_PASSWORD, CHARGEKEEPER_PORT: '0' });
    const port = await proc.listening;
    const cps = await Promise.all(['KP1', 'KP2', 'KP3'].map((id) => charger(port, id)));
    const answered: number[] = [];
    // Each charger sends readings one after another; the first two rounds are answered, the third is cut by the kill.
    await Promise.all(cps.map(async ({ cp, transactionId }) => {
      for (let i = 0; i < 2; i++) {
        await cp.call('MeterValues', reading(transactionId, 10 * (i + 1)));
        answered.push(transactionId);
      }
      void cp.call('MeterValues', reading(transactionId, 99)).catch(() => undefined);
    }));
    proc.child.kill('SIGKILL');
    expect(await proc.exited).toBe(null);
    for (const { cp } of cps) await cp.close({ force: true });

    const t = await apps.start({ dataDir });
    for (const { transactionId } of cps) {
      const rows = await t.app.db('meter_values').where({ transaction_id: transactionId }).orderBy('at').select('value') as Array<{ value: number | string }>;
      // Both answered readings are there; the unanswered one may be or not, never twice.
      expect(rows.slice(0, 2).map((r) => Number(r.value))).toEqual([10, 20]);
      expect(rows.length).toBeLessThanOrEqual(3);
    }
    expect(answered).toHaveLength(6);
  });
});
