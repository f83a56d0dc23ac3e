import { ApiError } from '../../core/errors.js';
import type { Account } from '../../core/accounts.js';
import { parseCsv, toCsv, unguardCell } from '../../core/csv.js';
import { checkTags, type CheckEntry, type FieldError } from './tag-input.js';
import type { TagStore } from './tag-store.js';
import { tagKey, type Tag, type TagInput } from './tags.js';

/** Columns of the tag CSV, in export order. `username` is an alternative to `userId` on import. */
export const CSV_COLUMNS = ['idTag', 'userId', 'username', 'status', 'expiresAt', 'parentIdTag', 'chargerIds', 'note'] as const;
type Column = (typeof CSV_COLUMNS)[number];

const MAX_LINES = 10_000;

function fail(errors: FieldError[]): never {
  throw ApiError.badRequest(errors, `${errors.map((e) => e.message).join('; ')}; nothing was imported`);
}

/**
 * Imports a CSV of tags all or nothing: every bad line is reported with its
 * number and field, and nothing is written unless every line is good. With
 * `update`, lines naming an existing tag change it (only the columns present);
 * otherwise an existing idTag is an error.
 */
export async function importTagsCsv(store: TagStore, accounts: Account[], text: string, update: boolean): Promise<{ created: string[]; updated: string[] }> {
  const { records, error } = parseCsv(text);
  if (error) fail([{ field: `line ${error.line}`, line: error.line, message: `line ${error.line}, ${error.message}` }]);
  const [header, ...lines] = records;
  if (!header) fail([{ field: 'body', message: 'the file is empty; expected a header line like idTag,username,status,expiresAt' }]);
  if (lines.length > MAX_LINES) fail([{ field: 'body', message: `at most ${MAX_LINES} tags per file, got ${lines.length}` }]);

  const columns: Array<Column | null> = header.cells.map((h) => CSV_COLUMNS.find((c) => c.toLowerCase() === h.trim().toLowerCase()) ?? null);
  const headerErrors: FieldError[] = [];
  header.cells.forEach((h, i) => {
    if (!columns[i]) headerErrors.push({ field: `line ${header.line}.${h.trim() || `column ${i + 1}`}`, line: header.line, message: `line ${header.line}, header: unknown column "${h.trim()}"; expected ${CSV_COLUMNS.join(', ')}` });
  });
  if (!columns.includes('idTag')) headerErrors.push({ field: `line ${header.line}.idTag`, line: header.line, message: `line ${header.line}, header: there is no idTag column` });
  if (headerErrors.length) fail(headerErrors);

  const byUsername = new Map(accounts.map((a) => [a.username.toLowerCase(), a.id]));
  const world = await store.world();
  const existing = update ? new Map((await store.list()).map((t) => [tagKey(t.idTag), t])) : new Map<string, Tag>();
  const errors: FieldError[] = [];
  const entries: CheckEntry[] = [];
  for (const { line, cells } of lines) {
    const err = (field: string, message: string) => errors.push({ field: `line ${line}.${field}`, line, message: `line ${line}, ${field}: ${message}` });
    if (cells.length > columns.length) {
      err('cells', `has ${cells.length} cells, the header has ${columns.length}`);
      continue;
    }
    // Our own export defuses spreadsheet formulas with a leading '; take that off so a file imports back as it was.
    const get = (c: Column): string | undefined => {
      const i = columns.indexOf(c);
      return i < 0 ? undefined : unguardCell(cells[i] ?? '').trim();
    };
    const input: TagInput = { idTag: get('idTag') ?? '' };
    const status = get('status');
    if (status !== undefined) input.status = status;
    const expiresAt = get('expiresAt');
    if (expiresAt !== undefined) input.expiresAt = expiresAt || null;
    const parent = get('parentIdTag');
    if (parent !== undefined) input.parentIdTag = parent || null;
    const chargers = get('chargerIds');
    if (chargers !== undefined) input.chargerIds = chargers ? chargers.split(/[;,|\s]+/).filter(Boolean) : null;
    const note = get('note');
    if (note !== undefined) input.note = note || null;

    const userIdText = get('userId');
    const username = get('username');
    let userId: number | null | undefined;
    if (userIdText) {
      if (!/^\d+$/.test(userIdText)) err('userId', `expected a number, got "${userIdText}"`);
      else userId = Number(userIdText);
    }
    if (username) {
      const found = byUsername.get(username.toLowerCase());
      if (found === undefined) err('username', `no user named "${username}"`);
      else if (userId !== undefined && userId !== found) err('username', `"${username}" is user ${found}, but userId says ${userId}`);
      else userId = found;
    }
    // Both owner cells empty means "unassigned", not "keep the owner".
    const hasOwnerColumn = userIdText !== undefined || username !== undefined;
    if (userId === undefined && hasOwnerColumn && !userIdText && !username) userId = null;
    if (userId !== undefined) input.userId = userId;
    entries.push({ input, existing: existing.get(tagKey(input.idTag ?? '')) ?? null, line });
  }
  if (errors.length) {
    // Report these together with what the tag checks find on the other lines.
    const more = checkTags(entries, world).errors;
    fail([...errors, ...more].sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
  }
  if (!entries.length) fail([{ field: 'body', message: 'the file has a header but no tags' }]);
  const saved = await store.save(entries, world);
  const created: string[] = [];
  const updated: string[] = [];
  saved.forEach((t, i) => (entries[i]!.existing ? updated : created).push(t.idTag));
  return { created, updated };
}

/** All tags as CSV, groups first so the file imports back in any order. */
export function tagsToCsv(tags: Tag[], accounts: Account[]): string {
  const names = new Map(accounts.map((a) => [a.id, a.username]));
  const sorted = [...tags].sort((a, b) => Number(Boolean(a.parentIdTag)) - Number(Boolean(b.parentIdTag)));
  return toCsv([...CSV_COLUMNS], sorted.map((t) => [
    t.idTag, t.userId, t.userId === null ? null : names.get(t.userId) ?? null, t.status, t.expiresAt,
    t.parentIdTag, t.chargerIds ? t.chargerIds.join(';') : null, t.note,
  ]));
}
