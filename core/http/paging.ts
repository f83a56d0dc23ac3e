import { Type, type TInteger } from '@sinclair/typebox';
import type { ResponseObject, ResponseToolkit } from '@hapi/hapi';
import type { Knex } from 'knex';

/** The most rows one page of any list answers; a client wanting more pages on with `offset`. */
export const MAX_PAGE = 1000;

/** The rows per page a list answers when the client names no `limit`. */
export const DEFAULT_PAGE = 100;

/** The header that carries how many rows match the filter, all pages together. */
export const TOTAL_HEADER = 'x-total-count';

/** One page of a list: how many rows, after skipping how many. */
export interface Page {
  /** Rows in this page, 1..MAX_PAGE. */
  limit: number;
  /** Rows skipped before this page; the next page starts at offset + limit. */
  offset: number;
}

/** The `limit` and `offset` query fields of a paged list route, for its TypeBox query schema. */
export function pageQuery(defaultLimit = DEFAULT_PAGE): { limit: TInteger; offset: TInteger } {
  return {
    limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: Math.min(defaultLimit, MAX_PAGE), description: `rows per page (at most ${MAX_PAGE})` }),
    offset: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0, description: 'rows to skip; the next page starts at offset + limit' }),
  };
}

/** Rows a list query matches, ignoring its order and paging; cheap next to the page itself. */
export async function countRows(q: Knex.QueryBuilder): Promise<number> {
  const row = await q.clone().clearSelect().clearOrder().clear('limit').clear('offset').count({ n: '*' }).first() as { n?: number | string } | undefined;
  return Number(row?.n ?? 0);
}

/** Answers one page of rows as the plain JSON list it always was, the total of all pages in X-Total-Count. */
export function pageAnswer(h: ResponseToolkit, rows: unknown[], total: number): ResponseObject {
  return h.response(rows).header(TOTAL_HEADER, String(total));
}

/** One page of a list already in memory (small tables read whole), with its total. */
export function pageOf<T>(h: ResponseToolkit, all: T[], page: Page): ResponseObject {
  return pageAnswer(h, all.slice(page.offset, page.offset + page.limit), all.length);
}
