import { Type } from '@sinclair/typebox';
import { ApiError } from '../../core/errors.js';
import { pageAnswer, pageQuery } from '../../core/http/paging.js';
import type { CoreServices } from '../../core/services.js';
import { ROLES, STAFF, type Principal, type RouteSpec } from '../../core/types.js';
import type { LocalLists } from './local-list.js';
import { importTagsCsv, tagsToCsv } from './tag-csv.js';
import type { TagStore } from './tag-store.js';
import { ID_TAG, type Tag, type TagInput } from './tags.js';
import type { UnknownTags } from './unknown-tags.js';

const TAG_FIELDS = {
  userId: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  status: Type.Optional(Type.Union([Type.Literal('Accepted'), Type.Literal('Blocked')])),
  // Parsed by the tag checks, which accept a date alone and name the field when it does not parse.
  expiresAt: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  parentIdTag: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  chargerIds: Type.Optional(Type.Union([Type.Array(Type.String({ minLength: 1 }), { maxItems: 1000 }), Type.Null()])),
  note: Type.Optional(Type.Union([Type.String(), Type.Null()])),
};
const TagParam = Type.Object({ idTag: Type.String({ minLength: 1, maxLength: 64 }) });

export interface TagRouteDeps { core: CoreServices; tags: TagStore; unknown: UnknownTags; lists: LocalLists }

/** /api/tags: RFID cards, their CSV import and export, unknown cards to adopt; /api/local-lists: what chargers hold. */
export function tagRoutes({ core, tags, unknown, lists }: TagRouteDeps): RouteSpec[] {
  const { audit, accounts } = core;
  const actor = (p: Principal | null) => p!.username;
  const isDriver = (p: Principal | null) => p?.role === 'driver';

  return [
    {
      method: 'GET', path: '/tags', roles: [...ROLES],
      summary: 'RFID tags by idTag; ?q= searches idTag, note and owner; drivers see only their own. Paged: ?limit= (default 100, at most 1000), ?offset=; the total in X-Total-Count',
      query: Type.Object({
        q: Type.Optional(Type.String({ maxLength: 100 })),
        userId: Type.Optional(Type.Integer({ minimum: 1 })),
        status: Type.Optional(Type.Union([Type.Literal('Accepted'), Type.Literal('Blocked')])),
        parentIdTag: Type.Optional(Type.String()),
        ...pageQuery(),
      }),
      handler: async ({ query, principal }, h) => {
        const { rows, total } = await tags.page({ ...query, ...(isDriver(principal) ? { userId: principal!.userId } : {}) });
        return pageAnswer(h, rows, total);
      },
    },
    {
      method: 'GET', path: '/tags/export', roles: STAFF, queryToken: true, summary: 'All tags as CSV (the columns the import takes)',
      handler: async (_req, h) => {
        const csv = tagsToCsv(await tags.list(), await accounts.list());
        return h.response(csv).type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="tags.csv"');
      },
    },
    {
      method: 'POST', path: '/tags/import', roles: [],
      summary: 'Import tags from CSV (idTag,userId|username,status,expiresAt,parentIdTag,chargerIds,note), all or nothing; ?update=true changes existing tags',
      query: Type.Object({ update: Type.Boolean({ default: false }) }),
      rawPayload: { maxBytes: 2 * 1024 * 1024, allow: ['text/csv', 'text/plain', 'application/csv', 'application/vnd.ms-excel', 'application/octet-stream'] },
      handler: async ({ payload, query, principal }) => {
        const text = Buffer.isBuffer(payload) ? payload.toString('utf8') : String(payload ?? '');
        const result = await importTagsCsv(tags, await accounts.list(), text, query.update);
        await audit.record(actor(principal), 'tag.import', null, { created: result.created.length, updated: result.updated.length, idTags: [...result.created, ...result.updated] });
        return { created: result.created.length, updated: result.updated.length };
      },
    },
    {
      method: 'GET', path: '/tags/unknown', roles: STAFF,
      summary: 'Cards presented at chargers that no tag matches, last seen first. Paged: ?limit= (default 100, at most 1000), ?offset=; the total in X-Total-Count',
      query: Type.Object(pageQuery()),
      handler: async ({ query }, h) => {
        const { rows, total } = await unknown.list(query);
        return pageAnswer(h, rows, total);
      },
    },
    {
      method: 'POST', path: '/tags/unknown/{idTag}/adopt', roles: [], summary: 'Turn an unknown card into a tag (body: the tag\'s other fields)',
      params: TagParam,
      body: Type.Object(TAG_FIELDS, { additionalProperties: false }),
      handler: async ({ params, payload, principal }, h) => {
        const seen = await unknown.get(params.idTag);
        if (!seen) throw ApiError.notFound(`unknown card ${params.idTag}`);
        const tag = await tags.create({ ...(payload as TagInput), idTag: seen.idTag });
        await audit.record(actor(principal), 'tag.adopt', `tag:${tag.idTag}`, { ...tag, seenAt: seen.chargerId, seenCount: seen.count });
        return h.response(tag).code(201);
      },
    },
    {
      method: 'DELETE', path: '/tags/unknown/{idTag}', roles: [], summary: 'Dismiss an unknown card',
      params: TagParam,
      handler: async ({ params, principal }, h) => {
        if (!(await unknown.forget(params.idTag))) throw ApiError.notFound(`unknown card ${params.idTag}`);
        await audit.record(actor(principal), 'tag.unknown-dismiss', `tag:${params.idTag}`);
        return h.response().code(204);
      },
    },
    {
      method: 'GET', path: '/tags/{idTag}', roles: [...ROLES], summary: 'One tag (matched ignoring case); drivers only their own',
      params: TagParam,
      handler: async ({ params, principal }) => {
        const tag = await tags.get(params.idTag);
        if (!tag || (isDriver(principal) && tag.userId !== principal!.userId)) throw ApiError.notFound(`tag ${params.idTag}`);
        return tag;
      },
    },
    {
      method: 'POST', path: '/tags', roles: [], summary: 'Create a tag',
      body: Type.Object({ idTag: ID_TAG, ...TAG_FIELDS }, { additionalProperties: false }),
      handler: async ({ payload, principal }, h) => {
        const tag = await tags.create(payload as TagInput);
        await audit.record(actor(principal), 'tag.create', `tag:${tag.idTag}`, tag);
        return h.response(tag).code(201);
      },
    },
    {
      method: 'PATCH', path: '/tags/{idTag}', roles: [], summary: 'Change a tag; blocking it updates chargers\' lists and clears their caches',
      params: TagParam,
      body: Type.Object(TAG_FIELDS, { additionalProperties: false }),
      handler: async ({ params, payload, principal }) => {
        const before = await tags.get(params.idTag);
        const after = await tags.update(params.idTag, payload as TagInput);
        await audit.record(actor(principal), 'tag.update', `tag:${after.idTag}`, changes(before!, after));
        return after;
      },
    },
    {
      method: 'DELETE', path: '/tags/{idTag}', roles: [], summary: 'Delete a tag (not a group that still has members)',
      params: TagParam,
      handler: async ({ params, principal }, h) => {
        const gone = await tags.remove(params.idTag);
        await audit.record(actor(principal), 'tag.delete', `tag:${gone.idTag}`, gone);
        return h.response().code(204);
      },
    },
    {
      method: 'GET', path: '/local-lists', roles: STAFF, summary: 'Local Authorization List state per charger',
      handler: async () => {
        const version = await tags.listVersion();
        return { listVersion: version, chargers: await lists.status() };
      },
    },
    {
      method: 'POST', path: '/local-lists/{chargerId}/sync', roles: ['installer'], summary: 'Probe a charger and send it the full list now',
      params: Type.Object({ chargerId: Type.String({ minLength: 1, maxLength: 64 }) }),
      handler: async ({ params }) => {
        if (!(await core.chargers.get(params.chargerId))) throw ApiError.notFound(`charger ${params.chargerId}`);
        if (!core.chargers.isOnline(params.chargerId)) throw ApiError.conflict(`charger ${params.chargerId} is offline`);
        return lists.resync(params.chargerId);
      },
    },
  ];
}

function changes(before: Tag, after: Tag): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['userId', 'status', 'expiresAt', 'parentIdTag', 'chargerIds', 'note'] as const) {
    if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) out[k] = { from: before[k], to: after[k] };
  }
  return out;
}
