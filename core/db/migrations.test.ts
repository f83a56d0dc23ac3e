import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from './index.js';
import { coreMigrations } from './migrations.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function open() {
  const dir = mkdtempSync(join(tmpdir(), 'chargekeeper-migrations-'));
  dirs.push(dir);
  return openDatabase({ client: 'sqlite', filename: 'site.db' }, dir);
}

const reading = { charger_id: 'CP1', connector_id: 1, at: '2026-12-01T10:00:00.000Z', measurand: 'Energy.Active.Import.Register', unit: 'Wh', value: 1200 };

describe('core migrations', () => {
  it('upgrades a database of the first release: readings kept, the de-duplication index led by time', async () => {
    const db = open();
    try {
      const firstRelease = coreMigrations.filter((m) => m.id < '004');
      await migrate(db, 'core', firstRelease);
      await db('meter_values').insert(reading);

      await migrate(db, 'core', coreMigrations);

      const columns = (await db.raw("SELECT name FROM pragma_index_info('meter_values_resend') ORDER BY seqno")) as Array<{ name: string }>;
      expect(columns.map((c) => c.name)).toEqual(['at', 'charger_id', 'connector_id', 'measurand', 'phase', 'location']);
      // A resent reading is still ignored, and the stored one kept.
      await db('meter_values').insert({ ...reading, value: 9999 }).onConflict(['charger_id', 'connector_id', 'at', 'measurand', 'phase', 'location']).ignore();
      expect(await db('meter_values').select('value')).toEqual([{ value: 1200 }]);
    } finally {
      await db.destroy();
    }
  });
});
