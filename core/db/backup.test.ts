import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Accounts } from '../accounts.js';
import { eventually, type TestApp, useApp } from '../../tests/kit/index.js';

let t: TestApp | undefined;
const apps = useApp();

describe('GET /api/backup', () => {
  it('downloads a consistent copy of the database while chargers keep writing, and leaves no file behind', async () => {
    // The download is of the SQLite file, on either test engine (PostgreSQL answers 409: pg_dump).
    t = await apps.start({ config: { storage: { client: 'sqlite' } } });
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const { transactionId } = await cp.call('StartTransaction', { connectorId: 1, idTag: 'T1', meterStart: 0, timestamp: new Date().toISOString() }) as { transactionId: number };
    // A charger keeps sending readings during the backup.
    let writing = true;
    const load = (async () => {
      for (let wh = 10; writing; wh += 10) {
        await cp.call('MeterValues', { connectorId: 1, transactionId, meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: String(wh) }] }] });
      }
    })();
    const res = await fetch(`${t.app.url}/api/backup`, { headers: { authorization: `Bearer ${await t.login()}` } });
    writing = false;
    await load;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="chargekeeper-backup-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.sqlite"$/);
    const body = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(body.length);

    // Into the test's data dir, which goes with the app.
    const restored = join(t.app.config.dataDir, 'restored.sqlite');
    writeFileSync(restored, body);
    const copy = new Database(restored, { readonly: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(copy.prepare('SELECT id FROM chargers').all()).toEqual([{ id: 'CP1' }]);
      expect(copy.prepare('SELECT id FROM transactions').all()).toEqual([{ id: transactionId }]);
      expect(copy.prepare('SELECT username FROM accounts').all()).toEqual([{ username: 'admin' }]);
    } finally {
      copy.close();
    }
    // The snapshot file is deleted once sent.
    await eventually(() => readdirSync(join(t!.app.config.dataDir, 'backups')).length === 0);
    expect((await t.api('GET', '/audit?action=system.backup')).body).toEqual([expect.objectContaining({ actor: 'admin' })]);
  });

  it('is for admins only', async () => {
    t = await apps.start();
    await new Accounts(t.app.db, t.clock, 3_600_000).create({ username: 'ian', role: 'installer', password: 'installer-pass-1' });
    expect((await t.api('GET', '/backup', { token: await t.login('ian', 'installer-pass-1') })).status).toBe(403);
    expect((await t.api('GET', '/backup', { token: null })).status).toBe(401);
  });
});
