import { Type } from '@sinclair/typebox';
import type { ResponseToolkit } from '@hapi/hapi';
import { ApiError, errorMessage } from '../../core/errors.js';
import { pageAnswer, pageQuery } from '../../core/http/paging.js';
import { commandApiError, sendErrorOf } from '../../core/ocpp/send-error.js';
import type { GetLogAnswer } from '../../core/ocpp/commands/maintenance.js';
import type { PluginContext } from '../../core/plugin.js';
import { STAFF, type Role, type RouteRequest, type RouteSpec } from '../../core/types.js';
import type { AnyCheck } from './check.js';
import type { DiagnosticsFiles } from './files.js';
import type { FtpUploads } from './ftp.js';
import { availabilityBetween, byHealth, chargerHealth, history } from './health.js';
import type { Prober } from './probes.js';
import type { FindingStore } from './store.js';

const OPERATE: Role[] = ['installer', 'technician'];
const ChargerParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export interface RouteDeps {
  ctx: PluginContext<{ checks: Record<string, { enabled: boolean } | undefined>; uploadBaseUrl?: string }>;
  store: FindingStore;
  prober: Prober;
  files: DiagnosticsFiles;
  checks: Record<string, AnyCheck>;
  /** The embedded FTP server, when diagnostics.ftp.enabled. */
  ftp: FtpUploads | null;
}

/** Turns a failed OCPP call into the answer the core's command route gives. */
function callError(err: unknown): never {
  const kind = sendErrorOf(err)?.kind;
  if (kind === 'offline' || kind === 'timeout' || kind === 'callerror') commandApiError(err);
  throw err;
}

export function routes({ ctx, store, prober, files, checks, ftp }: RouteDeps): RouteSpec[] {
  const mustExist = async (id: string) => {
    const charger = await ctx.core.chargers.record(id);
    if (!charger) throw ApiError.notFound(`charger ${id}`);
    return charger;
  };
  const mustBeOnline = async (id: string) => {
    await mustExist(id);
    if (!ctx.core.chargers.isOnline(id)) throw new ApiError(409, `charger ${id} is offline`);
  };
  const upload = async ({ params, payload, raw }: RouteRequest<{ token: string; name?: string }>) => {
    const file = await files.receive(params.token, Buffer.isBuffer(payload) ? payload : undefined, raw.headers['content-type'] as string | undefined, params.name || undefined);
    return { id: file.id, fileName: file.fileName, sizeBytes: file.sizeBytes };
  };
  // A wrong or used token is refused before 32 MiB of body are read.
  const checkUploadToken = async (params: Record<string, string>) => {
    if (typeof params.token !== 'string' || params.token.length < 16 || params.token.length > 64) throw ApiError.notFound('upload link');
    await files.usable(params.token);
  };
  const UploadParams = Type.Object({ token: Type.String({ minLength: 16, maxLength: 64 }), name: Type.Optional(Type.String({ maxLength: 200 })) });

  return [
    {
      method: 'GET', path: '/diagnostics/findings', roles: STAFF,
      summary: 'Findings of the checks: active first, then newest first. Paged: ?limit= (default 100, at most 1000), ?offset=; the total in X-Total-Count',
      query: Type.Object({
        chargerId: Type.Optional(Type.String()), state: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('cleared')])),
        check: Type.Optional(Type.String()), ...pageQuery(),
      }),
      handler: async ({ query }, h) => {
        const { rows, total } = await store.list(query);
        return pageAnswer(h, rows, total);
      },
    },
    {
      method: 'GET', path: '/diagnostics/findings/{id}', roles: STAFF, summary: 'One finding',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      handler: async ({ params }) => (await store.get(params.id)) ?? Promise.reject(ApiError.notFound(`finding ${params.id}`)),
    },
    {
      method: 'GET', path: '/diagnostics/checks', roles: STAFF, summary: 'The checks: id, what they find, the events they read, whether enabled, their config',
      handler: () => Object.values(checks).map((c) => ({
        id: c.id, description: c.summary, events: Object.keys(c.on), enabled: ctx.config.checks[c.id]?.enabled ?? true,
        config: Object.fromEntries(Object.keys(c.config).map((k) => [k, (ctx.config as unknown as Record<string, unknown>)[k]])),
      })),
    },
    {
      method: 'GET', path: '/diagnostics/health', roles: STAFF,
      summary: 'Availability and faults per charger (and connector), least healthy first',
      handler: async () => {
        const now = ctx.core.clock.nowMs();
        const list = [];
        for (const c of await ctx.core.chargers.records()) list.push((await chargerHealth(ctx.db, ctx.core.history, c, now, ctx.core.chargers.isOnline(c.id))).health);
        const active = store.active();
        return list.sort(byHealth).map((h) => ({ ...h, activeFindings: active.filter((f) => f.chargerId === h.chargerId).length }));
      },
    },
    {
      method: 'GET', path: '/diagnostics/health/{id}', roles: STAFF,
      summary: 'One charger\'s health with its state segments (24 h, 7 d) and availability per day (30 d)',
      params: ChargerParam,
      handler: async ({ params }) => {
        const row = await mustExist(params.id);
        const now = ctx.core.clock.nowMs();
        const { health, input } = await chargerHealth(ctx.db, ctx.core.history, row, now, ctx.core.chargers.isOnline(params.id));
        return { ...health, ...history(input, now) };
      },
    },
    {
      method: 'GET', path: '/diagnostics/availability/{id}', roles: STAFF,
      summary: 'A charger\'s availability, time per state and faults over any period (default: the last 30 days), and each connector\'s',
      params: ChargerParam,
      query: Type.Object({ from: Type.Optional(Type.String({ format: 'date-time' })), to: Type.Optional(Type.String({ format: 'date-time' })) }),
      handler: async ({ params, query }) => {
        const row = await mustExist(params.id);
        const toMs = query.to ? Date.parse(query.to) : ctx.core.clock.nowMs();
        const fromMs = query.from ? Date.parse(query.from) : toMs - 30 * 86_400_000;
        if (fromMs >= toMs) throw ApiError.badRequest([{ field: 'from', message: 'must be before to' }]);
        return availabilityBetween(ctx.db, ctx.core.history, row, fromMs, toMs);
      },
    },
    {
      method: 'GET', path: '/diagnostics/probes', roles: STAFF, summary: 'Maintenance probe results, newest first. Paged: ?limit= (default 100, at most 1000), ?offset=; the total in X-Total-Count',
      query: Type.Object({ chargerId: Type.Optional(Type.String()), ...pageQuery() }),
      handler: async ({ query }, h) => {
        const { rows, total } = await prober.list(query);
        return pageAnswer(h, rows, total);
      },
    },
    {
      method: 'POST', path: '/diagnostics/chargers/{id}/run', roles: OPERATE,
      summary: 'Run the maintenance probe on a charger now; answers the probe result',
      params: ChargerParam,
      handler: async ({ params, principal }) => {
        await mustBeOnline(params.id);
        return prober.run(params.id, principal!.username);
      },
    },
    {
      method: 'POST', path: '/diagnostics/chargers/{id}/collect', roles: OPERATE,
      summary: 'Ask a charger to upload its diagnostics log to a one-time link on this appliance; answers the file and the charger\'s reply { accepted, status, fileName, requestId }',
      params: ChargerParam,
      body: Type.Object({
        retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
        retryInterval: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
        startTime: Type.Optional(Type.String({ minLength: 1, description: 'ISO time of the oldest log entry wanted' })),
        stopTime: Type.Optional(Type.String({ minLength: 1, description: 'ISO time of the newest log entry wanted' })),
        via: Type.Optional(Type.Union([Type.Literal('http'), Type.Literal('ftp')], { description: 'upload over HTTP (default) or to the embedded FTP server (diagnostics.ftp)' })),
      }, { additionalProperties: false }),
      handler: async ({ params, payload, principal }) => {
        await mustBeOnline(params.id);
        for (const k of ['startTime', 'stopTime'] as const) {
          if (payload[k] !== undefined && Number.isNaN(Date.parse(payload[k]))) throw ApiError.badRequest([{ field: k, message: 'expected an ISO 8601 time' }]);
        }
        const { via, startTime, stopTime, ...retry } = payload;
        if (via === 'ftp' && !ftp) throw ApiError.badRequest([{ field: 'via', message: 'the FTP upload server is off (set diagnostics.ftp.enabled)' }]);
        const { id, location } = via === 'ftp'
          ? await files.requestFtp(params.id, principal!.username, ftp!.baseUrl())
          : await files.request(params.id, principal!.username, ctx.config.uploadBaseUrl ?? ctx.core.publicUrl);
        let response: GetLogAnswer;
        try {
          response = await ctx.core.chargers.commands.getLog(params.id, {
            kind: 'diagnostics', location, ...retry, ...(startTime !== undefined ? { from: startTime } : {}), ...(stopTime !== undefined ? { to: stopTime } : {}),
          }, { actor: principal!.username });
        } catch (err) {
          await files.settle(id, { state: 'failed', error: errorMessage(err) });
          callError(err);
        }
        const { requestId } = response;
        const file = !response.accepted
          ? await files.settle(id, { state: 'failed', error: `the charger answered ${response.status}`, requestId })
          : response.fileName
            ? await files.settle(id, { fileName: response.fileName, requestId })
            : await files.settle(id, { state: 'none', error: 'the charger has no diagnostics information to upload', requestId });
        return { file, response };
      },
    },
    {
      method: 'POST', path: '/diagnostics/upload/{token}/{name?}', roles: 'public',
      summary: 'Where a charger uploads its diagnostics log (multipart/form-data or a raw body); needs the one-time token from collect',
      params: UploadParams, rawPayload: { maxBytes: 32 * 1024 * 1024 }, beforeBody: checkUploadToken,
      handler: upload,
    },
    {
      method: 'PUT', path: '/diagnostics/upload/{token}/{name?}', roles: 'public',
      summary: 'Raw-body upload of a diagnostics log; needs the one-time token from collect',
      params: UploadParams, rawPayload: { maxBytes: 32 * 1024 * 1024 }, beforeBody: checkUploadToken,
      handler: upload,
    },
    {
      method: 'GET', path: '/diagnostics/files', roles: STAFF,
      summary: 'Diagnostics logs asked of chargers and the files they uploaded, newest first. Paged: ?limit= (default 100, at most 1000), ?offset=; the total in X-Total-Count',
      query: Type.Object({ chargerId: Type.Optional(Type.String()), ...pageQuery() }),
      handler: async ({ query }, h) => {
        const { rows, total } = await files.list(query);
        return pageAnswer(h, rows, total);
      },
    },
    {
      method: 'GET', path: '/diagnostics/files/{id}', roles: STAFF, queryToken: true, summary: 'Download an uploaded diagnostics file (?token= allowed, for links)',
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      handler: async ({ params }, h: ResponseToolkit) => {
        const f = await files.file(params.id);
        const res = h.file(f.path, { confine: false, mode: 'attachment', filename: f.name });
        return f.contentType && !/^multipart\//i.test(f.contentType) ? res.type(f.contentType) : res;
      },
    },
  ];
}
