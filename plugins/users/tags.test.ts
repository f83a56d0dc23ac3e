import { beforeAll, describe, expect, it } from 'vitest';
import { bootedCharger, createTag, createUser, type TestApp, type TestChargePoint, useApp } from '../../tests/kit/index.js';
import { authorize, fields } from './test-kit.js';

let t: TestApp;
const apps = useApp();
let carol: { id: number };
let cp1: TestChargePoint;

beforeAll(async () => {
  t = await apps.start({ config: { site: { timezone: 'Europe/Berlin' }, plugins: { users: {} } } });
  [cp1] = await Promise.all([bootedCharger(t, 'CP-1'), bootedCharger(t, 'CP-2')]);
  carol = await createUser(t, 'carol', 'driver', 'carol-password');
});


describe('RFID tags API', () => {
  it('creates, reads in any case, changes and deletes a tag', async () => {
    const created = await createTag(t, { idTag: 'Tag-42', userId: carol.id, chargerIds: ['CP-1'], note: 'blue key fob' });
    expect(created).toMatchObject({ idTag: 'Tag-42', userId: carol.id, status: 'Accepted', expiresAt: null, parentIdTag: null, chargerIds: ['CP-1'], note: 'blue key fob' });
    expect((await t.api('GET', '/tags/TAG-42')).body.idTag).toBe('Tag-42');
    const patched = await t.api('PATCH', '/tags/tag-42', { body: { status: 'Blocked', chargerIds: null, expiresAt: '2030-06-30' } });
    // A date alone means the end of that day on the site's clock (Berlin, summer time).
    expect(patched.body).toMatchObject({ status: 'Blocked', chargerIds: null, expiresAt: '2030-06-30T21:59:59.000Z' });
    expect((await t.api('DELETE', '/tags/Tag-42')).status).toBe(204);
    expect((await t.api('GET', '/tags/Tag-42')).status).toBe(404);
  });

  it('answers 400 naming the field for a bad status, date, duplicate, parent, charger or user', async () => {
    await createTag(t, { idTag: 'DUP-1' });
    expect(fields(await t.api('POST', '/tags', { body: { idTag: 'X1', status: 'Maybe' } }))).toEqual(['status']);
    expect(fields(await t.api('POST', '/tags', { body: { idTag: 'X1', expiresAt: '2030-02-30' } }))).toEqual(['expiresAt']);
    expect(fields(await t.api('POST', '/tags', { body: { idTag: 'X1', expiresAt: 'next tuesday' } }))).toEqual(['expiresAt']);
    expect(fields(await t.api('POST', '/tags', { body: { idTag: 'dup-1' } }))).toEqual(['idTag']);
    expect(fields(await t.api('POST', '/tags', { body: { idTag: 'X1', parentIdTag: 'NOPE' } }))).toEqual(['parentIdTag']);
    expect(fields(await t.api('POST', '/tags', { body: { idTag: 'X1', chargerIds: ['CP-1', 'CP-9'] } }))).toEqual(['chargerIds']);
    expect(fields(await t.api('POST', '/tags', { body: { idTag: 'X1', userId: 999 } }))).toEqual(['userId']);
    expect(fields(await t.api('POST', '/tags', { body: { idTag: 'has space' } }))).toEqual(['idTag']);
    expect(fields(await t.api('POST', '/tags', { body: { idTag: 'export' } }))).toEqual(['idTag']);
    expect(fields(await t.api('PATCH', '/tags/DUP-1', { body: { parentIdTag: 'dup-1' } }))).toEqual(['parentIdTag']);
    expect((await t.api('PATCH', '/tags/NOPE', { body: { status: 'Blocked' } })).status).toBe(404);
    expect((await t.api('GET', '/tags/X1')).status).toBe(404);
  });

  it('keeps groups one level deep and refuses to delete a group with members', async () => {
    await createTag(t, { idTag: 'HOUSE' });
    await createTag(t, { idTag: 'HOUSE-A', parentIdTag: 'house' });
    expect((await t.api('GET', '/tags/HOUSE-A')).body.parentIdTag).toBe('HOUSE');
    expect(fields(await t.api('POST', '/tags', { body: { idTag: 'HOUSE-A-KID', parentIdTag: 'HOUSE-A' } }))).toEqual(['parentIdTag']);
    expect(fields(await t.api('PATCH', '/tags/HOUSE', { body: { parentIdTag: 'DUP-1' } }))).toEqual(['parentIdTag']);
    expect((await t.api('DELETE', '/tags/HOUSE')).status).toBe(409);
  });

  it('searches by idTag, note and owner and filters by user', async () => {
    await createTag(t, { idTag: 'SRCH-1', userId: carol.id, note: 'Garage door' });
    await createTag(t, { idTag: 'SRCH-2', note: 'spare 50%' });
    const ids = async (q: string) => (await t.api('GET', `/tags${q}`)).body.map((x: { idTag: string }) => x.idTag);
    expect(await ids('?q=srch')).toEqual(['SRCH-1', 'SRCH-2']);
    expect(await ids('?q=garage')).toEqual(['SRCH-1']);
    expect(await ids('?q=50%25')).toEqual(['SRCH-2']);
    expect(await ids('?q=carol')).toContain('SRCH-1');
    expect(await ids(`?userId=${carol.id}`)).toEqual(['SRCH-1']);
  });

  it('shows a driver only their own tags, whatever they ask for', async () => {
    await createTag(t, { idTag: 'OTHER-1' });
    const token = await t.login('carol', 'carol-password');
    const mine = await t.api('GET', '/tags?userId=1', { token });
    expect(mine.status).toBe(200);
    expect(mine.body.map((x: { userId: number }) => x.userId)).toEqual(mine.body.map(() => carol.id));
    expect(mine.body.map((x: { idTag: string }) => x.idTag)).toContain('SRCH-1');
    expect((await t.api('GET', '/tags/OTHER-1', { token })).status).toBe(404);
    expect((await t.api('GET', '/tags/SRCH-1', { token })).status).toBe(200);
    expect((await t.api('POST', '/tags', { token, body: { idTag: 'MINE' } })).status).toBe(403);
  });
});

describe('CSV import and export', () => {
  const header = 'idTag,username,status,expiresAt,parentIdTag,chargerIds';
  const lines = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')},carol,Accepted,2031-01-01,,CP-1;CP-2`);

  it('rejects a file of 200 cards with one bad line, naming the line and field, and imports nothing', async () => {
    const rows = lines(200, 'COOP');
    rows[136] = 'COOP136,carol,Acepted,2031-01-01,,CP-1';
    const res = await t.api('POST', '/tags/import', { raw: [header, ...rows].join('\n'), headers: { 'content-type': 'text/csv' } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'line 138.status', line: 138 })]);
    expect(res.body.message).toContain('138');
    expect((await t.api('GET', '/tags?q=coop')).body).toEqual([]);
  });

  it('reports every bad line at once', async () => {
    const csv = [header, 'A1,carol,Accepted,,,', 'A2,nobody,,,,', 'A3,,,31.12.2030,,', 'A1,,,,,', 'A5,,,,MISSING,CP-7'].join('\r\n');
    const res = await t.api('POST', '/tags/import', { raw: csv, headers: { 'content-type': 'text/csv' } });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([
      'line 3.username', 'line 4.expiresAt', 'line 5.idTag', 'line 6.chargerIds', 'line 6.parentIdTag',
    ]);
    expect((await t.api('GET', '/tags/A1')).status).toBe(404);
  });

  it('imports 200 cards at once, with groups defined later in the file, and they work at a charger', async () => {
    const rows = lines(199, 'MEMBER');
    rows.unshift('MEMBER-X,carol,,,FLEETX,');
    rows.push('FLEETX,,,,,');
    const res = await t.api('POST', '/tags/import', { raw: [header, ...rows].join('\n'), headers: { 'content-type': 'text/csv' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ created: 201, updated: 0 });
    expect((await t.api('GET', '/tags/member042')).body).toMatchObject({ userId: carol.id, chargerIds: ['CP-1', 'CP-2'], status: 'Accepted' });
    expect((await t.api('GET', '/tags/MEMBER-X')).body.parentIdTag).toBe('FLEETX');
    expect((await authorize(cp1, 'member007')).status).toBe('Accepted');
    const cp = await bootedCharger(t, 'CP-IMPORT');
    expect((await authorize(cp, 'member007')).status).toBe('Invalid');
    const again = await t.api('POST', '/tags/import', { raw: [header, ...rows.slice(1, 3)].join('\n'), headers: { 'content-type': 'text/csv' } });
    expect(again.body.errors.map((e: { field: string }) => e.field)).toEqual(['line 2.idTag', 'line 3.idTag']);
  });

  it('refuses an empty file, a header without cards, an unknown column and an open quote', async () => {
    const post = (raw: string) => t.api('POST', '/tags/import', { raw, headers: { 'content-type': 'text/csv' } });
    expect(fields(await post(''))).toEqual(['body']);
    expect(fields(await post('idTag,status\n'))).toEqual(['body']);
    expect(fields(await post('idTag,colour\nX,red\n'))).toEqual(['line 1.colour']);
    expect(fields(await post('status\nAccepted\n'))).toEqual(['line 1.idTag']);
    expect(fields(await post('idTag,note\nQ1,"never closed\n'))).toEqual(['line 2']);
    expect(fields(await post('idTag\nQ1,extra\n'))).toEqual(['line 2.cells']);
  });

  it('updates existing cards with ?update=true and reads semicolon-separated files', async () => {
    const csv = 'idTag;status;note\nMEMBER000;Blocked;"lost; reported"\n';
    const res = await t.api('POST', '/tags/import?update=true', { raw: csv, headers: { 'content-type': 'text/csv' } });
    expect(res.body).toEqual({ created: 0, updated: 1 });
    expect((await t.api('GET', '/tags/MEMBER000')).body).toMatchObject({ status: 'Blocked', note: 'lost; reported', userId: carol.id, chargerIds: ['CP-1', 'CP-2'] });
  });

  it('exports every tag as CSV that imports back', async () => {
    const res = await t.api('GET', '/tags/export');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = res.body as string;
    const [head, ...rest] = text.trim().split('\r\n');
    expect(head).toBe('idTag,userId,username,status,expiresAt,parentIdTag,chargerIds,note');
    expect(rest.find((l) => l.startsWith('MEMBER000,'))).toBe(`MEMBER000,${carol.id},carol,Blocked,2031-01-01T22:59:59.000Z,,CP-1;CP-2,lost; reported`);
    expect(rest.findIndex((l) => l.startsWith('FLEETX,'))).toBeLessThan(rest.findIndex((l) => l.startsWith('MEMBER-X,')));
    const back = await t.api('POST', '/tags/import?update=true', { raw: text, headers: { 'content-type': 'text/csv' } });
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(back.body.created).toBe(0);
  });
});
