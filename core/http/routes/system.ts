import { createReadStream, rmSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { PassThrough } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { snapshotSqlite } from '../../db/backup.js';
import { ApiError } from '../../errors.js';
import { maskSecrets } from '../../settings.js';
import { ROLES, STAFF, type RouteSpec } from '../../types.js';
import { clientAddressOf } from '../client-address.js';
import { LoginGuard } from '../login-guard.js';
import type { CoreRouteDeps } from './deps.js';

type RequestInfo = { info: { remoteAddress: string }; headers: Record<string, unknown> };

export function systemRoutes(d: CoreRouteDeps): RouteSpec[] {
  const loginGuard = new LoginGuard(d.clock);
  const addressOf = clientAddressOf(d.config.http.trustProxy);
  const clientAddress = (raw: RequestInfo) => addressOf(raw.info.remoteAddress, raw.headers['x-forwarded-for']);
  const { metrics } = d.config.http;
  return [
    ...(metrics.enabled ? [{
      method: 'GET', path: '/metrics', root: true, roles: metrics.public ? 'public' : STAFF,
      summary: 'Prometheus metrics in the text exposition format (http.metrics); a staff token unless http.metrics.public',
      handler: async (_req, h) => {
        const { contentType, text } = await d.metrics.scrape();
        return h.response(text).type(contentType);
      },
    } satisfies RouteSpec] : []),
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
      // Bounded so a 100,000-character "username" is refused before it reaches the audit log or scrypt.
      body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 100 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }),
      handler: async ({ payload, raw }: { payload: { username: string; password: string }; raw: RequestInfo }) => {
        const address = clientAddress(raw);
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
      method: 'GET', path: '/backup', roles: [], queryToken: true, summary: 'A consistent copy of the whole SQLite database, taken while the appliance runs, as a download',
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
      method: 'POST', path: '/auth/ticket', roles: [...ROLES],
      summary: 'A one-time ticket valid for 30 s, for a download link or the event stream (?ticket=) instead of putting the token in a URL',
      handler: ({ token }, h) => h.response(d.http.issueTicket(token!)).code(201),
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
      method: 'GET', path: '/events', roles: [...ROLES], queryToken: true, summary: 'Server-Sent Events stream of the event bus (?token= allowed)',
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
        let expiry: NodeJS.Timeout | undefined;
        let closed = false;
        const close = () => {
          if (closed) return;
          closed = true;
          off();
          clearInterval(ping);
          clearTimeout(expiry);
          offStop();
          offAccount();
          stream.end();
        };
        const offStop = d.http.onStop(close);
        // The stream lives only as long as its token: logout, revocation, a password or
        // role change, disabling or expiry ends it (the browser then logs in again).
        const token = req.token!;
        const offAccount = d.accounts.onChange((accountId) => {
          if (accountId !== principal.userId) return;
          void d.accounts.authenticate(token).then((now) => {
            if (!now || now.role !== principal.role) close();
          }, close);
        });
        const watchExpiry = () => void d.accounts.expiresAt(token).then((at) => {
          if (!at || closed) return;
          // setTimeout holds at most ~24.8 days; a longer-lived token is checked again then. A timer may also
          // fire a millisecond before the token's time, when it is still valid: then it is set again.
          const ms = Math.min(Math.max(0, Date.parse(at) - d.clock.nowMs()), 2 ** 31 - 1);
          expiry = setTimeout(() => {
            void d.accounts.authenticate(token).then((now) => { if (!now) close(); else watchExpiry(); }, close);
          }, ms + 5);
        }, close);
        watchExpiry();
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
