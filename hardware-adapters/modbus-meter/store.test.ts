import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '../../core/db/index.js';
import { compact, history, latestReading, migrations, readingRow } from './store.js';

let dir: string;
let db: Knex;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meters-store-'));
  db = openDatabase({ client: 'sqlite', filename: 'test.sqlite' }, dir);
  await migrate(db, 'meters', migrations);
});

afterEach(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const NOW = Date.parse('2024-06-30T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** Samples every 10 s over [fromMs, toMs) with power rising by 1 W per sample and energy by 10 Wh. */
async function sample(meterId: string, fromMs: number, toMs: number, powerW = (i: number) => i): Promise<number> {
  const rows = [];
  for (let t = fromMs, i = 0; t < toMs; t += 10_000, i++) {
    rows.push(readingRow(meterId, iso(t), { powerW: powerW(i), energyImportWh: 1000 + i * 10, voltageV: [230, 231, 229] }));
  }
  await db.batchInsert('meters_readings', rows, 100);
  return rows.length;
}

describe('meter history storage', () => {
  it('keeps every sample of the last day', async () => {
    await sample('grid', NOW - 3_600_000, NOW);
    expect(await compact(db, NOW)).toEqual({ raw: 0, minutes: 0 });
    const raw = await history(db, 'grid', iso(NOW - 3_600_000), iso(NOW), 'raw');
    expect(raw).toHaveLength(360);
    expect(raw[0]).toEqual({ at: '2024-06-30T11:00:00.000Z', powerW: 0, energyImportWh: 1000 });
  });

  it('folds samples older than a day into minute averages', async () => {
    const start = NOW - 2 * 86_400_000;
    await sample('grid', start, start + 5 * 60_000);
    await sample('grid', NOW - 60_000, NOW);
    const done = await compact(db, NOW);
    expect(done.raw).toBe(30);
    expect(await db('meters_readings').count({ n: '*' }).first()).toEqual({ n: 6 });
    const minutes = await db('meters_minutes').orderBy('at');
    expect(minutes).toHaveLength(5);
    // Samples 0..5 in the first minute: average power 2.5 W, register at its end 1050 Wh.
    expect(minutes[0]).toMatchObject({ meter_id: 'grid', at: '2024-06-28T12:00:00.000Z', samples: 6, power_w: 2.5, power_w_min: 0, power_w_max: 5, energy_import_wh: 1050 });
  });

  it('folds minute rows older than a month into hourly averages', async () => {
    const start = NOW - 40 * 86_400_000;
    await sample('grid', start, start + 2 * 3_600_000, (i) => (i < 360 ? 100 : 200));
    await compact(db, NOW);
    expect(await db('meters_readings').count({ n: '*' }).first()).toEqual({ n: 0 });
    expect(await db('meters_minutes').count({ n: '*' }).first()).toEqual({ n: 0 });
    const hours = await db('meters_hours').orderBy('at');
    expect(hours.map((h: Record<string, unknown>) => [h.at, h.samples, h.power_w])).toEqual([
      ['2024-05-21T12:00:00.000Z', 360, 100],
      ['2024-05-21T13:00:00.000Z', 360, 200],
    ]);
  });

  it('answers minute and hour history from whatever resolution still holds the data', async () => {
    // Two hours straddling the one-day cut-off: part is compacted into minutes, part stays raw.
    const start = NOW - 86_400_000 - 3_600_000;
    await sample('grid', start, start + 2 * 3_600_000, () => 500);
    await sample('other', start, start + 2 * 3_600_000, () => 9999);
    await compact(db, NOW);
    expect(Number((await db('meters_minutes').count({ n: '*' }).first())?.n)).toBeGreaterThan(0);
    expect(Number((await db('meters_readings').count({ n: '*' }).first())?.n)).toBeGreaterThan(0);

    const minutes = await history(db, 'grid', iso(start), iso(start + 2 * 3_600_000), 'minute');
    expect(minutes).toHaveLength(120);
    expect(minutes.every((m) => m.powerW === 500)).toBe(true);
    expect(minutes.at(-1)).toEqual({ at: '2024-06-29T12:59:00.000Z', powerW: 500, energyImportWh: 1000 + 719 * 10 });

    const hours = await history(db, 'grid', iso(start), iso(start + 2 * 3_600_000), 'hour');
    expect(hours).toEqual([
      { at: '2024-06-29T11:00:00.000Z', powerW: 500, energyImportWh: 1000 + 359 * 10 },
      { at: '2024-06-29T12:00:00.000Z', powerW: 500, energyImportWh: 1000 + 719 * 10 },
    ]);
  });

  it('remembers the newest sample of a meter', async () => {
    await sample('grid', NOW - 60_000, NOW);
    expect(await latestReading(db, 'grid')).toEqual({
      at: iso(NOW - 10_000), reading: { powerW: 5, energyImportWh: 1050, voltageV: [230, 231, 229] },
    });
    expect(await latestReading(db, 'nope')).toBeNull();
  });
});
