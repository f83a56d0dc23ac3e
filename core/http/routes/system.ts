import { createReadStream, rmSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { PassThrough } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { snapshotSqlite } from '../../db/backup.js';
import { ApiError } from '../../errors.js';
import { maskSecrets } from '../../settings.js';
import { ROLES, type RouteSpec } from '../../types.js';
import { LoginGuard } from '../login-guard.js';
import type { CoreRouteDeps } from './deps.js';

type RequestInfo = { info: { remoteAddress: string }; headers: Record<string, unknown> };

/** Who is logging in: the socket's address, or behind a trusted proxy the first address it forwarded. */
function clientAddress(raw: RequestInfo, trustProxy: boolean): string {
  const forwarded = raw.headers['x-forwarded-for'];
  const first = typeof forwarded === 'string' ? forwarded.split(',')[0]?.trim() : undefined;
  return trustProxy && first ? first : raw.info.remoteAddress;
}

export function systemRoutes(d: CoreRouteDeps): RouteSpec[] {
  const loginGuard = new LoginGuard(d.clock);
  return [
    {
      method: 'GET', path: '/health', roles: 'public', summary: 'Liveness, version and uptime',
      handler: () => {
        const failed = d.plugins().filter((p) => p.state === 'failed').map((p) => p.name);
        return { status: 'ok', version: d.version, uptimeS: Math.round((Date.now() - d.startedAtMs) / 1000), failedPlugins: failed };
      },
    },
    {
      method: 'GET', path: '/site', roles: [...ROLES], summary: 'Site name, time zone and OCPP endpoint',
      handler: () => ({ name: d.config.site.name, timezone: d.config.site.timezone, ocppPath: d.config.ocpp.path, version: d.version }),
    },
    {
      method: 'POST', path: '/auth/login', roles: 'public', summary: 'Log in with username and password; returns a bearer token',
      body: Type.Object({ username: Type.String({ minLength: 1 }), password: Type.String({ minLength: 1 }) }),
      handler: async ({ payload, raw }: { payload: { username: string; password: string }; raw: RequestInfo }) => {
        const address = clientAddress(raw, d.config.http.trustProxy);
        const waitMs = loginGuard.waitMs(payload.username, address);
        if (waitMs > 0) {
          const seconds = Math.ceil(waitMs / 1000);
          throw new ApiError(429, `too many failed logins; try again in ${seconds} s`, [], seconds);
        }
        const result = await d.accounts.login(payload.username, payload.password);
        if (!result) {
          loginGuard.failed(payload.username, address);
          await d.audit.record(payload.username, 'auth.login-failed', null, { address });
          throw new ApiError(401, 'wrong username or password');
        }
        loginGuard.succeeded(payload.username, address);
        await d.audit.record(result.principal.username, 'auth.login', null);
        const user = await d.accounts.get(result.principal.userId);
        return { token: result.token, expiresAt: result.expiresAt, user };
      },
    },
    {
      method: 'GET', path: '/backup', roles: [], summary: 'A consistent copy of the whole SQLite database, taken while the appliance runs, as a download',
      handler: async ({ principal }, h) => {
        if (!d.databaseFile) throw ApiError.conflict('the database is PostgreSQL: back it up with pg_dump');
        const stamp = d.clock.iso().slice(0, 19).replace(/:/g, '-');
        const file = await snapshotSqlite(d.databaseFile, d.dataDir, `chargekeeper-backup-${stamp}.sqlite`);
        await d.audit.record(principal!.username, 'system.backup', null);
        const stream = createReadStream(file);
        stream.once('close', () => rmSync(file, { force: true }));
        // With its length known, a browser shows the download's progress.
        return h.response(stream).type('application/vnd.sqlite3').bytes(statSync(file).size)
          .header('content-disposition', `attachment; filename="${basename(file)}"`);
      },
    },
    {
      method: 'GET', path: '/auth/me', roles: [...ROLES], summary: 'The logged-in account',
      handler: async ({ principal }) => d.accounts.get(principal!.userId),
    },
    {
      method: 'POST', path: '/auth/logout', roles: [...ROLES], summary: 'Revoke the token used for this request',
      handler: async ({ raw }, h) => {
        const header = String(raw.headers.authorization ?? '');
        await d.accounts.logout(header.slice(7).trim());
        return h.response().code(204);
      },
    },
    {
      method: 'GET', path: '/plugins', roles: [...ROLES], summary: 'Enabled plugins, their state and UI pages',
      handler: ({ principal }) => d.plugins().map((p) => ({
        ...p,
        pages: p.pages.filter((pg: { roles: string[] }) => principal!.role === 'admin' || pg.roles.includes(principal!.role)),
      })),
    },
    {
      method: 'GET', path: '/plugins/{name}/settings', roles: ['installer'],
      summary: 'A plugin\'s config schema and its settings from the site config, secrets masked (change them in the site config file)',
      params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) }),
      handler: ({ params }) => {
        const found = d.pluginSettings(params.name);
        if (!found) throw ApiError.notFound(`plugin ${params.name}`);
        return { name: params.name, schema: found.schema, value: maskSecrets(found.value) };
      },
    },
    {
      method: 'GET', path: '/audit', roles: ['installer', 'viewer'], summary: 'The audit log, newest first',
      query: Type.Object({
        actor: Type.Optional(Type.String()), action: Type.Optional(Type.String()), target: Type.Optional(Type.String()),
        before: Type.Optional(Type.String({ format: 'date-time' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
      }),
      handler: ({ query }) => d.audit.list(query),
    },
    {
      method: 'GET', path: '/events', roles: [...ROLES], summary: 'Server-Sent Events stream of the event bus (?token= allowed)',
      handler: (req, h) => {
        const principal = req.principal!;
        const stream = new PassThrough();
        const write = (event: string, data: unknown) => stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        const driverSees = new Set(['charger.connected', 'charger.disconnected', 'connector.status']);
        const off = d.bus.onAny((event, payload) => {
          if (principal.role === 'driver') {
            const userId = (payload as { userId?: unknown }).userId;
            if (!driverSees.has(event) && userId !== principal.userId) return;
          }
          write(event, payload);
        });
        const ping = setInterval(() => stream.write(': ping\n\n'), 25_000);
        const close = () => {
          off();
          clearInterval(ping);
          offStop();
          stream.end();
        };
        const offStop = d.http.onStop(close);
        req.raw.raw.req.once('close', close);
        stream.write(': connected\n\n');
        return h.response(stream)
          .type('text/event-stream')
          .header('cache-control', 'no-cache')
          .header('x-accel-buffering', 'no')
          .header('content-encoding', 'identity');
      },
    },
  ];
}
