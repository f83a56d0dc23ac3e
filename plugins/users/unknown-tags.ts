import type { Knex } from 'knex';
import type { AuthorizeRequest } from '../../core/events.js';
import type { Page } from '../../core/http/paging.js';
import type { CoreServices } from '../../core/services.js';
import { tagKey } from './tags.js';

/** A card a charger presented that no tag matches: "who was that?". */
export interface UnknownTag {
  idTag: string;
  /** Where it was last seen. */
  chargerId: string;
  connectorId: number | null;
  context: string;
  firstSeenAt: string;
  lastSeenAt: string;
  /** How often it was presented. */
  count: number;
}

const toUnknown = (r: Record<string, unknown>): UnknownTag => ({
  idTag: r.id_tag as string, chargerId: r.charger_id as string, connectorId: (r.connector_id as number) ?? null,
  context: r.context as string, firstSeenAt: r.first_seen_at as string, lastSeenAt: r.last_seen_at as string,
  count: Number(r.count),
});

/** Unknown cards seen at chargers, kept for `unknownTagRetention` after their last appearance. */
export class UnknownTags {
  readonly #db: Knex;
  readonly #core: CoreServices;

  constructor(db: Knex, core: CoreServices) {
    this.#db = db;
    this.#core = core;
  }

  async record(req: AuthorizeRequest): Promise<void> {
    const at = this.#core.clock.iso();
    // Through the group-commit writer: this runs while a charger waits for its answer.
    await this.#core.writer.write(async (trx) => {
      await trx('users_unknown_tags')
        .insert({
          id_tag_key: tagKey(req.idTag), id_tag: req.idTag, charger_id: req.chargerId, connector_id: req.connectorId,
          context: req.context, first_seen_at: at, last_seen_at: at, count: 1,
        })
        .onConflict('id_tag_key')
        .merge({
          id_tag: req.idTag, charger_id: req.chargerId, connector_id: req.connectorId, context: req.context,
          last_seen_at: at, count: trx.raw('users_unknown_tags.count + 1'),
        });
    });
  }

  /** One page, last seen first, and how many unknown cards there are in all. */
  async list(page: Page): Promise<{ rows: UnknownTag[]; total: number }> {
    const [rows, total] = await Promise.all([
      this.#db('users_unknown_tags').orderBy('last_seen_at', 'desc').orderBy('id_tag_key').limit(page.limit).offset(page.offset),
      this.#db('users_unknown_tags').count({ n: '*' }).first() as Promise<{ n: number | string } | undefined>,
    ]);
    return { rows: rows.map(toUnknown), total: Number(total?.n ?? 0) };
  }

  async get(idTag: string): Promise<UnknownTag | null> {
    const row = await this.#db('users_unknown_tags').where({ id_tag_key: tagKey(idTag) }).first();
    return row ? toUnknown(row) : null;
  }

  async forget(idTag: string): Promise<boolean> {
    return (await this.#db('users_unknown_tags').where({ id_tag_key: tagKey(idTag) }).delete()) > 0;
  }

  /** Drops cards not seen for longer than the retention. */
  async prune(retentionMs: number): Promise<number> {
    const cutoff = new Date(this.#core.clock.nowMs() - retentionMs).toISOString();
    return this.#db('users_unknown_tags').where('last_seen_at', '<', cutoff).delete();
  }
}
