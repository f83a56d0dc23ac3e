import type { FieldProblem } from '../../core/errors.js';
import { DATE_HINT, parseExpiry } from './dates.js';
import { RESERVED_ID_TAGS, tagKey, type Tag, type TagInput, type TagStatus } from './tags.js';

/** A 400 entry; import errors also carry the CSV line they come from. */
export interface FieldError extends FieldProblem { line?: number }

/** What the checks need to know about the rest of the world, loaded once per request or import. */
export interface CheckWorld {
  timezone: string;
  /** Every stored tag by key. */
  tags: Map<string, { idTag: string; parentKey: string | null }>;
  chargerIds: Set<string>;
  userIds: Set<number>;
}

/** A tag ready to be written. */
export interface CheckedTag {
  key: string; idTag: string; userId: number | null; status: TagStatus; expiresAt: string | null;
  parentKey: string | null; parentIdTag: string | null; chargerIds: string[] | null; note: string | null;
  /** The stored tag this replaces, if any. */
  existing: Tag | null;
}

export interface CheckEntry {
  input: TagInput;
  /** The stored tag for an update; absent for a new one. */
  existing?: Tag | null;
  /** CSV line number, named in every error of this entry. */
  line?: number;
}

const ID_TAG_RE = /^[\x21-\x7E]{1,20}$/;
const STATUSES: TagStatus[] = ['Accepted', 'Blocked'];

/**
 * Checks new or changed tags against each other and the stored ones, all at
 * once, so an import of 200 lines reports every bad line and a parent may be
 * defined later in the same file. Returns the rows to write, or the errors.
 */
export function checkTags(entries: CheckEntry[], world: CheckWorld): { rows: CheckedTag[]; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const rows: Array<CheckedTag & { line?: number }> = [];
  const seenInBatch = new Map<string, number | undefined>();
  for (const { input, existing, line } of entries) {
    const err = (field: string, message: string) => errors.push(line === undefined
      ? { field, message }
      : { field: `line ${line}.${field}`, line, message: `line ${line}, ${field}: ${message}` });

    const idTag = existing ? existing.idTag : (input.idTag ?? '').trim();
    const key = tagKey(idTag);
    if (!existing && !ID_TAG_RE.test(idTag)) err('idTag', idTag ? `expected 1-20 printable characters without spaces, got "${idTag}"` : 'is required');
    else if (!existing && RESERVED_ID_TAGS.has(key)) err('idTag', `"${idTag}" is a reserved word`);
    else if (seenInBatch.has(key)) {
      const first = seenInBatch.get(key);
      err('idTag', `duplicate idTag "${idTag}"${first !== undefined ? ` (first on line ${first})` : ''}`);
    } else if (!existing && world.tags.has(key)) err('idTag', `a tag "${world.tags.get(key)!.idTag}" already exists`);
    seenInBatch.set(key, line);

    let status: TagStatus = existing?.status ?? 'Accepted';
    if (input.status !== undefined && input.status !== '') {
      const found = STATUSES.find((s) => s.toLowerCase() === String(input.status).trim().toLowerCase());
      if (found) status = found;
      else err('status', `expected one of Accepted, Blocked, got "${input.status}"`);
    }

    let expiresAt = existing?.expiresAt ?? null;
    if (input.expiresAt !== undefined) {
      if (input.expiresAt === null || input.expiresAt.trim() === '') expiresAt = null;
      else {
        expiresAt = parseExpiry(input.expiresAt, world.timezone);
        if (!expiresAt) err('expiresAt', `expected ${DATE_HINT}, got "${input.expiresAt}"`);
      }
    }

    let userId = existing?.userId ?? null;
    if (input.userId !== undefined) {
      userId = input.userId;
      if (userId !== null && !world.userIds.has(userId)) err('userId', `no user with id ${userId}`);
    }

    let chargerIds = existing?.chargerIds ?? null;
    if (input.chargerIds !== undefined) {
      if (input.chargerIds === null) chargerIds = null;
      else {
        chargerIds = [...new Set(input.chargerIds.map((c) => c.trim()).filter(Boolean))];
        const unknown = chargerIds.filter((c) => !world.chargerIds.has(c));
        if (!chargerIds.length) err('chargerIds', 'must name at least one charger, or be null for every charger');
        else if (unknown.length) err('chargerIds', `unknown charger ${unknown.join(', ')}`);
      }
    }

    let note = existing?.note ?? null;
    if (input.note !== undefined) {
      note = input.note === null || input.note.trim() === '' ? null : input.note.trim();
      if (note && note.length > 500) err('note', 'must be at most 500 characters');
    }

    let parentKey = existing?.parentIdTag ? tagKey(existing.parentIdTag) : null;
    let parentIdTag = existing?.parentIdTag ?? null;
    if (input.parentIdTag !== undefined) {
      const p = input.parentIdTag === null ? '' : input.parentIdTag.trim();
      parentKey = p ? tagKey(p) : null;
      parentIdTag = p || null;
      if (parentKey === key) err('parentIdTag', 'a tag cannot be its own parent');
    }
    // Rows with errors still take part in the group checks below, so every bad field is reported at once.
    if (key) {
      rows.push({ key, idTag, userId, status, expiresAt, parentKey, parentIdTag, chargerIds, note, existing: existing ?? null, line });
    }
  }

  // Groups are checked against the world as it will be once every row is written.
  const merged = new Map(world.tags);
  for (const r of rows) merged.set(r.key, { idTag: r.idTag, parentKey: r.parentKey });
  const hasChildren = new Set([...merged.values()].map((t) => t.parentKey).filter((k): k is string => Boolean(k)));
  for (const r of rows) {
    const err = (field: string, message: string) => errors.push(r.line === undefined
      ? { field, message }
      : { field: `line ${r.line}.${field}`, line: r.line, message: `line ${r.line}, ${field}: ${message}` });
    if (!r.parentKey || r.parentKey === r.key) continue;
    const parent = merged.get(r.parentKey);
    if (!parent) err('parentIdTag', `unknown tag "${r.parentIdTag}"`);
    else if (parent.parentKey) err('parentIdTag', `"${parent.idTag}" is itself in the group of "${merged.get(parent.parentKey)?.idTag ?? parent.parentKey}"; groups are one level deep`);
    else if (hasChildren.has(r.key)) err('parentIdTag', `"${r.idTag}" is the group of other tags, so it cannot join a group`);
    else r.parentIdTag = parent.idTag;
  }
  errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { rows: errors.length ? [] : rows.map(({ line: _l, ...r }) => r), errors };
}
