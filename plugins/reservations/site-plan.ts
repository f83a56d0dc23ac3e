import { mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { Knex } from 'knex';
import { ApiError } from '../../core/errors.js';
import type { CoreServices } from '../../core/services.js';
import { ROLES, type RouteSpec } from '../../core/types.js';

export interface SitePlanDeps { db: Knex; core: CoreServices }

const MAX_BYTES = 5 * 1024 * 1024;
// Raster formats only: an SVG served from this origin could carry script.
const FORMATS: Array<{ type: string; magic: (b: Buffer) => boolean }> = [
  { type: 'image/png', magic: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { type: 'image/jpeg', magic: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { type: 'image/webp', magic: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP' },
];

const Pin = Type.Object({
  chargerId: Type.String({ minLength: 1, maxLength: 64 }),
  /** Fractions of the image's width and height, from the top left. */
  x: Type.Number({ minimum: 0, maximum: 1 }),
  y: Type.Number({ minimum: 0, maximum: 1 }),
}, { additionalProperties: false });

/** An optional plan of the site (an image the operator uploads) with a pin per charger. */
export function sitePlanRoutes({ db, core }: SitePlanDeps): RouteSpec[] {
  const dir = join(core.dataDir, 'reservations');
  const file = join(dir, 'site-plan');
  const meta = join(dir, 'site-plan.json');

  const readMeta = async (): Promise<{ type: string; uploadedAt: string; bytes: number } | null> => {
    try {
      return JSON.parse(await readFile(meta, 'utf8')) as { type: string; uploadedAt: string; bytes: number };
    } catch {
      return null;
    }
  };

  return [
    {
      method: 'GET', path: '/reservations/site-plan', roles: [...ROLES], summary: 'The site plan image (404 when none was uploaded)',
      handler: async (_req, h) => {
        const m = await readMeta();
        if (!m) throw ApiError.notFound('site plan');
        const body = await readFile(file).catch(() => null);
        if (!body) throw ApiError.notFound('site plan');
        return h.response(body).type(m.type).header('cache-control', 'private, max-age=60').header('x-content-type-options', 'nosniff');
      },
    },
    {
      method: 'POST', path: '/reservations/site-plan', roles: ['installer'],
      summary: 'Upload the site plan: the raw PNG, JPEG or WebP image as the request body (at most 5 MB)',
      rawPayload: { maxBytes: MAX_BYTES, allow: ['image/png', 'image/jpeg', 'image/webp', 'application/octet-stream'] },
      handler: async ({ payload, principal }, h) => {
        const body = Buffer.isBuffer(payload) ? payload : Buffer.from(String(payload ?? ''));
        const format = FORMATS.find((f) => f.magic(body));
        if (!format) throw ApiError.badRequest([{ field: '(body)', message: 'expected a PNG, JPEG or WebP image' }]);
        await mkdir(dir, { recursive: true });
        // Written aside and renamed, so a reader never sees half an image.
        await writeFile(`${file}.tmp`, body);
        await rename(`${file}.tmp`, file);
        const info = { type: format.type, uploadedAt: core.clock.iso(), bytes: body.length };
        await writeFile(meta, JSON.stringify(info));
        await core.audit.record(principal!.username, 'reservations.site-plan', null, info);
        return h.response(info).code(201);
      },
    },
    {
      method: 'DELETE', path: '/reservations/site-plan', roles: ['installer'], summary: 'Remove the site plan (pins stay for the next one)',
      handler: async ({ principal }, h) => {
        await rm(meta, { force: true });
        await rm(file, { force: true });
        await core.audit.record(principal!.username, 'reservations.site-plan-delete', null);
        return h.response().code(204);
      },
    },
    {
      method: 'GET', path: '/reservations/site-plan/pins', roles: [...ROLES], summary: 'Where each charger is on the site plan, and whether a plan exists',
      handler: async () => {
        const m = await readMeta();
        const pins = await db('reservations_pins').orderBy('charger_id').select('charger_id', 'x', 'y');
        return {
          plan: m,
          pins: pins.map((p: { charger_id: string; x: number; y: number }) => ({ chargerId: p.charger_id, x: Number(p.x), y: Number(p.y) })),
        };
      },
    },
    {
      method: 'PUT', path: '/reservations/site-plan/pins', roles: ['installer'], summary: 'Replace all pins: [{ chargerId, x, y }] with x, y as fractions of the image',
      body: Type.Array(Pin, { maxItems: 500 }),
      handler: async ({ payload, principal }) => {
        const pins = payload as Array<{ chargerId: string; x: number; y: number }>;
        const known = new Set((await core.chargers.list()).map((c) => c.id));
        const errors = pins.flatMap((p, i) => (known.has(p.chargerId) ? [] : [{ field: `[${i}].chargerId`, message: `no charger ${p.chargerId}` }]));
        const seen = new Set<string>();
        pins.forEach((p, i) => {
          if (seen.has(p.chargerId)) errors.push({ field: `[${i}].chargerId`, message: `${p.chargerId} is pinned twice` });
          seen.add(p.chargerId);
        });
        if (errors.length) throw ApiError.badRequest(errors);
        await db.transaction(async (trx) => {
          await trx('reservations_pins').delete();
          if (pins.length) await trx('reservations_pins').insert(pins.map((p) => ({ charger_id: p.chargerId, x: p.x, y: p.y })));
        });
        await core.audit.record(principal!.username, 'reservations.site-plan-pins', null, { pins: pins.length });
        return { pins };
      },
    },
  ];
}
