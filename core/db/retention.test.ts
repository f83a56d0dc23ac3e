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

describe('thinning old meter readings (on by default)', () => {
  const reading = (at: number, wh: number) => ({
    timestamp: new Date(at).toISOString(),
    sampledValue: [
      { value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
      { value: '7400', measurand: 'Power.Active.Import', unit: 'W' },
    ],
  });
  type Reading = { at: string; measurand: string; value: number };

  it('keeps the last reading of every 15 minutes (and the first) of sessions older than 30 days, so energy per interval stays exact, and leaves newer ones', async () => {
    const t = await apps.start();
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    // Midnight UTC 40 days ago and 10 days ago: two hours of a reading a minute each.
    const old = Math.floor((t.clock.nowMs() - 40 * DAY) / DAY) * DAY;
    const recent = Math.floor((t.clock.nowMs() - 10 * DAY) / DAY) * DAY;
    const session = async (start: number) => {
      const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'T1', meterStart: 0, timestamp: new Date(start).toISOString() }) as { transactionId: number };
      const values = Array.from({ length: 120 }, (_, i) => reading(start + (i + 1) * 60_000, (i + 1) * 123));
      await cp.call('MeterValues', { connectorId: 1, transactionId, meterValue: values });
      await cp.call('StopTransaction', { transactionId, meterStop: 120 * 123, timestamp: new Date(start + 121 * 60_000).toISOString() });
      return transactionId;
    };
    const oldTx = await session(old);
    const recentTx = await session(recent);
    const energy = async (id: number) => ((await t.api('GET', `/transactions/${id}`)).body.meterValues as Reading[])
      .filter((v) => v.measurand === 'Energy.Active.Import.Register');
    const before = await energy(oldTx);
    expect(before).toHaveLength(120);

    await t.clock.advance(3_600_000);
    const after = await energy(oldTx);
    // The first reading (minute 1), and the last of each quarter hour (minutes 14, 29, … 119, and 120 in the ninth).
    expect(after.map((v) => v.value)).toEqual([1, 14, 29, 44, 59, 74, 89, 104, 119, 120].map((m) => m * 123));
    // The register at the end of every quarter hour is what it was: energy per quarter, hour and session unchanged.
    for (const v of after.slice(1)) expect(before.find((b) => b.at === v.at)!.value).toBe(v.value);
    expect((await t.api('GET', `/transactions/${oldTx}`)).body).toMatchObject({ energyWh: 120 * 123 });
    expect(await energy(recentTx)).toHaveLength(120);
    // Where it got to is kept, so a restart does not scan the years before again.
    const mark = await t.app.db('storage_marks').where({ name: 'meter_values.downsampled_until' }).first() as { value: string };
    expect(Date.parse(mark.value)).toBe(Math.floor((t.clock.nowMs() - 30 * DAY) / DAY) * DAY);
  });

  it('refuses an interval that does not divide a day, naming the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chargekeeper-thin-'));
    try {
      const file = writeConfig(dir, { ...baseConfig(), storage: { thinMeterValuesTo: '7m', thinMeterValuesAfter: '2d' } });
      const { problems } = loadCoreConfig({ CHARGEKEEPER_CONFIG: file });
      expect(problems).toEqual([
        expect.objectContaining({ path: 'storage.thinMeterValuesAfter', message: expect.stringContaining('at least 7d') }),
        expect.objectContaining({ path: 'storage.thinMeterValuesTo', message: expect.stringContaining('a divisor of a day') }),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
