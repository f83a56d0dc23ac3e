import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseConfig, type TestApp, useApp, writeConfig } from '../../tests/kit/index.js';
import { loadCoreConfig } from '../config.js';

let t: TestApp | undefined;
const apps = useApp();

const DAY = 24 * 3_600_000;
const energy = (at: number, wh: number) => ({ timestamp: new Date(at).toISOString(), sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] });

describe('storage.keepMeterValues', () => {
  it('deletes readings older than the configured age every hour and keeps newer ones and the sessions', async () => {
    t = await apps.start({ config: { storage: { keepMeterValues: '30d' } } });
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const now = t.clock.nowMs();
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'T1', meterStart: 0, timestamp: new Date(now - 40 * DAY).toISOString() }) as { transactionId: number };
    // A charger's queue delivered late: readings of 40, 31 and 29 days ago, stored at their own times.
    await cp.call('MeterValues', { connectorId: 1, transactionId, meterValue: [energy(now - 40 * DAY, 1000), energy(now - 31 * DAY, 2000), energy(now - 29 * DAY, 3000)] });
    await cp.call('StopTransaction', { transactionId, meterStop: 3500, timestamp: new Date(now - 29 * DAY + 60_000).toISOString() });
    expect((await t.api('GET', `/transactions/${transactionId}`)).body.meterValues).toHaveLength(3);

    await t.clock.advance(3_600_000);
    const after = (await t.api('GET', `/transactions/${transactionId}`)).body;
    expect(after.meterValues.map((v: { value: number }) => v.value)).toEqual([3000]);
    expect(after).toMatchObject({ energyWh: 3500 });
  });

  it('refuses an age under seven days, naming the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chargekeeper-keep-'));
    try {
      const file = writeConfig(dir, { ...baseConfig(), storage: { keepMeterValues: '1d' } });
      const { problems } = loadCoreConfig({ CHARGEKEEPER_CONFIG: file });
      expect(problems).toEqual([expect.objectContaining({ path: 'storage.keepMeterValues', message: expect.stringContaining('at least 7d') })]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
