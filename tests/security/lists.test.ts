import { beforeAll, describe, expect, it } from 'vitest';
import { eventually, type TestApp, useApp } from '../kit/index.js';

// A guest on the LAN can make a charger present made-up cards without end; the list of them must stay bounded.
const STORED = 1500;

let t: TestApp;
const apps = useApp();
beforeAll(async () => {
  t = await apps.start({ config: { plugins: { users: {}, reservations: {}, diagnostics: {} } } });
  // Volume straight into the table, oldest first, so "last seen first" is predictable.
  const base = Date.parse('2026-01-01T00:00:00Z');
  const rows = Array.from({ length: STORED }, (_, i) => {
    const at = new Date(base + i * 1000).toISOString();
    return { id_tag_key: `card${i}`, id_tag: `CARD${i}`, charger_id: 'CP1', connector_id: 1, context: 'Authorize', first_seen_at: at, last_seen_at: at, count: 1 };
  });
  for (let i = 0; i < rows.length; i += 200) await t.app.db('users_unknown_tags').insert(rows.slice(i, i + 200));
  // And a few the real way: a charger asks about cards nobody registered.
  const cp = await t.chargePoint('CP1');
  await cp.boot();
  for (const idTag of ['GUEST-A', 'GUEST-B', 'GUEST-C']) {
    expect(((await cp.call('Authorize', { idTag })) as { idTagInfo: { status: string } }).idTagInfo.status).toBe('Invalid');
  }
  await eventually(async () => expect(Number((await t.app.db('users_unknown_tags').count({ n: '*' }).first())?.n)).toBe(STORED + 3));
}, 60_000);

describe('lists are bounded and paged', () => {
  it('answers unknown cards 100 at a time by default, last seen first, with the total in X-Total-Count', async () => {
    const res = await t.api<Array<{ idTag: string }>>('GET', '/tags/unknown');
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(100);
    expect(res.headers.get('x-total-count')).toBe(String(STORED + 3));
    expect(res.body.slice(0, 3).map((u) => u.idTag).sort()).toEqual(['GUEST-A', 'GUEST-B', 'GUEST-C']);
    expect(res.body[3]!.idTag).toBe(`CARD${STORED - 1}`);
  });

  it('answers at most 1000 unknown cards and refuses a larger limit', async () => {
    const max = await t.api<unknown[]>('GET', '/tags/unknown?limit=1000');
    expect(max.status).toBe(200);
    expect(max.body).toHaveLength(1000);
    const over = await t.api<{ errors: Array<{ field: string }> }>('GET', '/tags/unknown?limit=1001');
    expect(over.status).toBe(400);
    expect(over.body.errors.map((e) => e.field)).toEqual(['limit']);
  });

  it('pages through every unknown card with offset, each card once', async () => {
    const seen = new Set<string>();
    for (let offset = 0; ; offset += 1000) {
      const page = await t.api<Array<{ idTag: string }>>('GET', `/tags/unknown?limit=1000&offset=${offset}`);
      expect(page.status).toBe(200);
      for (const u of page.body) seen.add(u.idTag);
      if (page.body.length < 1000) break;
    }
    expect(seen.size).toBe(STORED + 3);
    const past = await t.api<unknown[]>('GET', `/tags/unknown?offset=${STORED + 3}`);
    expect(past.body).toEqual([]);
    expect(past.headers.get('x-total-count')).toBe(String(STORED + 3));
  });

  it('pages the tags, users, transactions and reservations lists the same way', async () => {
    const tags = Array.from({ length: 150 }, (_, i) => `TAG${String(i).padStart(3, '0')}`);
    const imported = await t.api('POST', '/tags/import', { raw: `idTag,status\r\n${tags.map((x) => `${x},Accepted`).join('\r\n')}\r\n`, headers: { 'content-type': 'text/csv' } });
    expect(imported.status).toBe(200);
    const first = await t.api<Array<{ idTag: string }>>('GET', '/tags');
    expect(first.body).toHaveLength(100);
    expect(first.headers.get('x-total-count')).toBe('150');
    const second = await t.api<Array<{ idTag: string }>>('GET', '/tags?offset=100');
    expect(second.body.map((x) => x.idTag)).toEqual(tags.slice(100));
    expect((await t.api('GET', '/tags?limit=5000')).status).toBe(400);

    for (let i = 0; i < 3; i++) expect((await t.api('POST', '/users', { body: { username: `driver${i}`, role: 'driver' } })).status).toBe(201);
    const users = await t.api<Array<{ username: string }>>('GET', '/users?limit=2&offset=1');
    expect(users.body.map((u) => u.username)).toEqual(['driver0', 'driver1']);
    expect(users.headers.get('x-total-count')).toBe('4');

    for (const path of ['/transactions', '/reservations', '/reservations/queue', '/diagnostics/findings', '/diagnostics/probes', '/diagnostics/files', '/chargers/CP1/status-history']) {
      const res = await t.api('GET', path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('x-total-count'), path).toMatch(/^\d+$/);
      expect((await t.api('GET', `${path}?limit=1001`)).status, path).toBe(400);
    }
  });
});
