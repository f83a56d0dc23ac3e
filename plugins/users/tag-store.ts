import type { Knex } from 'knex';
import { ApiError } from '../../core/errors.js';
import { countRows, type Page } from '../../core/http/paging.js';
import type { CoreServices } from '../../core/services.js';
import { checkTags, type CheckEntry, type CheckedTag, type CheckWorld } from './tag-input.js';
import { effective, narrows, tagKey, toTag, type Effective, type Tag, type TagInput, type TagRow } from './tags.js';

/** Told after every committed change that can alter what a charger should accept. */
export type OnTagsChanged = (change: { revoked: boolean }) => void;

export interface TagFilter { q?: string; userId?: number; status?: string; parentIdTag?: string; limit?: number; offset?: number }

/** A tag with what it is worth right now. */
export interface Valued { tag: Tag; eff: Effective }

/** Stored RFID tags: queries, checked writes, and the list version chargers' local lists follow. */
export class TagStore {
  readonly #db: Knex;
  readonly #core: CoreServices;
  readonly #onChange: OnTagsChanged;

  constructor(db: Knex, core: CoreServices, onChange: OnTagsChanged) {
    this.#db = db;
    this.#core = core;
    this.#onChange = onChange;
  }

  async get(idTag: string): Promise<Tag | null> {
    const row = await this.#db<TagRow>('users_tags').where({ id_tag_key: tagKey(idTag) }).first();
    return row ? toTag(row) : null;
  }

  async list(f: TagFilter = {}): Promise<Tag[]> {
    const q = this.#filtered(f).select('t.*').orderBy('t.id_tag_key').limit(f.limit ?? 10_000).offset(f.offset ?? 0);
    return (await q).map(toTag);
  }

  /** One page of the filtered tags and how many match in all. */
  async page(f: TagFilter & Page): Promise<{ rows: Tag[]; total: number }> {
    const [rows, total] = await Promise.all([this.list(f), countRows(this.#filtered(f))]);
    return { rows, total };
  }

  #filtered(f: TagFilter): Knex.QueryBuilder {
    const q = this.#db<TagRow>('users_tags as t');
    if (f.userId !== undefined) q.where('t.user_id', f.userId);
    if (f.status) q.where('t.status', f.status);
    if (f.parentIdTag) q.where('t.parent_key', tagKey(f.parentIdTag));
    if (f.q) {
      const like = `%${f.q.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
      q.leftJoin('accounts as a', 'a.id', 't.user_id').where((w) => {
        w.whereRaw("t.id_tag_key like ? escape '\\'", [like])
          .orWhereRaw("lower(coalesce(t.note, '')) like ? escape '\\'", [like])
          .orWhereRaw("lower(coalesce(a.username, '')) like ? escape '\\'", [like])
          .orWhereRaw("lower(coalesce(a.name, '')) like ? escape '\\'", [like]);
      });
    }
    return q;
  }

  /** Everything the checks of tag-input.ts compare against. */
  async world(): Promise<CheckWorld> {
    const [tags, chargers, accounts] = await Promise.all([
      this.#db('users_tags').select('id_tag_key', 'id_tag', 'parent_key'),
      this.#core.chargers.records(),
      this.#core.accounts.list(),
    ]);
    return {
      timezone: this.#core.site.timezone,
      tags: new Map(tags.map((t: { id_tag_key: string; id_tag: string; parent_key: string | null }) => [t.id_tag_key, { idTag: t.id_tag, parentKey: t.parent_key ?? null }])),
      chargerIds: new Set(chargers.map((c) => c.id)),
      userIds: new Set(accounts.map((a) => a.id)),
    };
  }

  /** Checks and writes the entries all or nothing; throws a 400 naming every bad field. */
  async save(entries: CheckEntry[], world?: CheckWorld): Promise<Tag[]> {
    const { rows, errors } = checkTags(entries, world ?? (await this.world()));
    if (errors.length) {
      const lines = [...new Set(errors.map((e) => e.line).filter((l) => l !== undefined))];
      throw ApiError.badRequest(errors, lines.length
        ? `${lines.length} bad line(s): ${lines.join(', ')}; nothing was imported. ${errors.map((e) => e.message).join('; ')}`
        : undefined);
    }
    const keys = rows.map((r) => r.key);
    const before = await this.valued(keys);
    await this.#db.transaction(async (trx) => {
      for (const r of rows) await this.#upsert(trx, r);
      // A card now known is no longer a stranger waiting to be adopted.
      await trx('users_unknown_tags').whereIn('id_tag_key', keys).delete();
      await bumpVersion(trx);
    });
    const after = await this.valued(keys);
    this.#onChange({ revoked: keys.some((k) => narrows(before.get(k)?.eff ?? null, after.get(k)?.eff ?? null)) });
    return keys.map((k) => after.get(k)!.tag);
  }

  async #upsert(trx: Knex.Transaction, r: CheckedTag): Promise<void> {
    const now = this.#core.clock.iso();
    const fields = {
      id_tag: r.idTag, user_id: r.userId, status: r.status, expires_at: r.expiresAt, parent_key: r.parentKey,
      parent_id_tag: r.parentIdTag, charger_ids: r.chargerIds ? JSON.stringify(r.chargerIds) : null, note: r.note, updated_at: now,
    };
    if (r.existing) await trx('users_tags').where({ id_tag_key: r.key }).update(fields);
    else await trx('users_tags').insert({ id_tag_key: r.key, ...fields, created_at: now });
  }

  async create(input: TagInput): Promise<Tag> {
    return (await this.save([{ input }]))[0]!;
  }

  async update(idTag: string, patch: TagInput): Promise<Tag> {
    const existing = await this.get(idTag);
    if (!existing) throw ApiError.notFound(`tag ${idTag}`);
    return (await this.save([{ input: patch, existing }]))[0]!;
  }

  async remove(idTag: string): Promise<Tag> {
    const existing = await this.get(idTag);
    if (!existing) throw ApiError.notFound(`tag ${idTag}`);
    const key = tagKey(idTag);
    const children = await this.#db('users_tags').where({ parent_key: key }).pluck('id_tag');
    if (children.length) {
      throw ApiError.conflict(`tag ${existing.idTag} is the group of ${children.join(', ')}; move or delete those first`);
    }
    const before = await this.valued([key]);
    await this.#db.transaction(async (trx) => {
      await trx('users_tags').where({ id_tag_key: key }).delete();
      await bumpVersion(trx);
    });
    this.#onChange({ revoked: before.get(key)?.eff.status === 'Accepted' });
    return existing;
  }

  /**
   * After an account was disabled, enabled or is about to be deleted: its
   * cards change worth, so lists and caches must follow. With `block`, the
   * cards are blocked and unassigned (the owner is leaving).
   */
  async ownerChanged(userId: number, opts: { block?: boolean } = {}): Promise<string[]> {
    const keys: string[] = await this.#db('users_tags').where({ user_id: userId }).pluck('id_tag_key');
    if (!keys.length) return [];
    if (opts.block) {
      await this.#db.transaction(async (trx) => {
        await trx('users_tags').whereIn('id_tag_key', keys).update({ status: 'Blocked', user_id: null, updated_at: this.#core.clock.iso() });
        await bumpVersion(trx);
      });
    } else {
      await bumpVersion(this.#db);
    }
    // Disabling or removing an owner can only take access away; enabling one gives it back.
    const account = await this.#core.accounts.get(userId);
    this.#onChange({ revoked: Boolean(opts.block || account?.disabled) });
    return (await this.#db('users_tags').whereIn('id_tag_key', keys).pluck('id_tag')) as string[];
  }

  /** The global local-list version. */
  listVersion(): Promise<number> {
    return listVersion(this.#db);
  }

  /** Tags (all, or the given keys) with their worth now: owner, group and expiry applied. */
  async valued(keys?: string[]): Promise<Map<string, Valued>> {
    const q = this.#db<TagRow>('users_tags');
    if (keys) q.whereIn('id_tag_key', keys);
    const rows = await q;
    const parentKeys = [...new Set(rows.map((r) => r.parent_key).filter((k): k is string => Boolean(k)))];
    const parents = new Map<string, Tag>();
    if (parentKeys.length) {
      for (const p of await this.#db<TagRow>('users_tags').whereIn('id_tag_key', parentKeys)) parents.set(p.id_tag_key, toTag(p));
    }
    const ownerIds = [...new Set(rows.map((r) => r.user_id).filter((u): u is number => u !== null))];
    const disabled = await this.#core.accounts.disabledAmong(ownerIds);
    const nowIso = this.#core.clock.iso();
    const out = new Map<string, Valued>();
    for (const r of rows) {
      const tag = toTag(r);
      const parent = r.parent_key ? parents.get(r.parent_key) ?? null : null;
      out.set(r.id_tag_key, { tag, eff: effective({ tag, parent, ownerDisabled: r.user_id !== null && disabled.has(r.user_id), nowIso }) });
    }
    return out;
  }
}

/** The global local-list version: one step per change that can alter any charger's list. */
export async function bumpVersion(db: Knex | Knex.Transaction, atLeast = 0): Promise<number> {
  await db('users_state').where({ key: 'listVersion' }).increment('value', 1);
  if (atLeast) await db('users_state').where({ key: 'listVersion' }).where('value', '<', atLeast).update({ value: atLeast });
  return listVersion(db);
}

export async function listVersion(db: Knex | Knex.Transaction): Promise<number> {
  const row = await db('users_state').where({ key: 'listVersion' }).first();
  return Number(row?.value ?? 0);
}
