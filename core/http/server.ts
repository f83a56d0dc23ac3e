import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Hapi, { type Request, type ResponseToolkit } from '@hapi/hapi';
import Inert from '@hapi/inert';
import Boom from '@hapi/boom';
import type { Accounts } from '../accounts.js';
import type { CoreConfig } from '../config.js';
import { ApiError, errorMessage } from '../errors.js';
import type { Logger, Principal, RouteSpec } from '../types.js';
import { checkPart, nulProblems } from './validate.js';
import { buildOpenApi } from './openapi.js';

export interface HttpDeps {
  config: CoreConfig;
  log: Logger;
  accounts: Accounts;
  version: string;
  uiDir: string;
  /** For the owner of a route: is it usable now? A failed plugin's routes answer 503. */
  ownerState(owner: string): 'running' | 'failed' | 'stopped' | 'starting';
  /** Security profile 3: the CA (PEM) client certificates are verified against; the OCPP upgrade decides on the result. */
  clientCa?: string;
}

interface Mounted { owner: string; spec: RouteSpec }

const TICKET_TTL_MS = 30_000;
const MAX_TICKETS = 1000;

/**
 * Headers on every answer, UI and API alike. The UI is built without inline
 * scripts, so script-src needs no 'unsafe-inline'; styles keep it because
 * Svelte sets style attributes.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': [
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:",
    "connect-src 'self'", "font-src 'self'", "manifest-src 'self'", "worker-src 'self'", "object-src 'none'",
    "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

const JSON_ONLY = ['application/json'];

function toBoom(err: unknown, log: Logger, where: string): Boom.Boom {
  if (err instanceof ApiError) {
    const boom = new Boom.Boom(err.message, { statusCode: err.status });
    if (err.errors.length) (boom.output.payload as unknown as Record<string, unknown>).errors = err.errors;
    if (err.retryAfterSeconds !== undefined) boom.output.headers['Retry-After'] = String(err.retryAfterSeconds);
    return boom;
  }
  if (Boom.isBoom(err)) return err;
  log.error(`${where} failed: ${errorMessage(err)}`, { stack: err instanceof Error ? err.stack : undefined });
  return Boom.badImplementation();
}

/** The hapi server: API routes under /api with bearer auth and roles, the built UI at /. */
export class HttpServer {
  readonly hapi: Hapi.Server;
  readonly #deps: HttpDeps;
  readonly #routes: Mounted[] = [];
  /** What each mounted method and path runs now; null once its plugin dropped it. */
  readonly #live = new Map<string, Mounted | null>();
  readonly #closers = new Set<() => void>();
  /** One-time tickets for links: ticket → the bearer token it stands for. */
  readonly #tickets = new Map<string, { token: string; expiresAtMs: number }>();

  constructor(deps: HttpDeps) {
    this.#deps = deps;
    const { http } = deps.config;
    this.hapi = Hapi.server({
      host: http.host,
      port: http.port,
      tls: http.tls ? {
        cert: readFileSync(http.tls.cert), key: readFileSync(http.tls.key),
        // Asked for, not required: the UI and API need none, and a charger without one gets a logged 401 rather than a reset socket.
        ...(deps.clientCa ? { requestCert: true, rejectUnauthorized: false, ca: deps.clientCa } : {}),
      } : undefined,
      routes: {
        validate: { failAction: async (_req, _h, err) => { throw err ?? Boom.badRequest(); } },
        response: { emptyStatusCode: 204 },
      },
      router: { stripTrailingSlash: true },
    });
  }

  /** Registers a stream closer, called on stop so open SSE responses end at once. */
  onStop(fn: () => void): () => void {
    this.#closers.add(fn);
    return () => this.#closers.delete(fn);
  }

  /** A one-time, 30-second stand-in for a bearer token, for a download link or an EventSource URL. */
  issueTicket(token: string): { ticket: string; expiresAt: string } {
    const now = Date.now();
    for (const [k, v] of this.#tickets) if (v.expiresAtMs <= now) this.#tickets.delete(k);
    if (this.#tickets.size >= MAX_TICKETS) throw new ApiError(429, 'too many unused tickets; use or let some expire first', [], 30);
    const ticket = `ckt_${randomBytes(18).toString('base64url')}`;
    this.#tickets.set(ticket, { token, expiresAtMs: now + TICKET_TTL_MS });
    return { ticket, expiresAt: new Date(now + TICKET_TTL_MS).toISOString() };
  }

  #bearer(request: Request, spec: RouteSpec): string | null {
    const header = request.headers.authorization;
    if (typeof header === 'string' && header.toLowerCase().startsWith('bearer ')) return header.slice(7).trim();
    if (!spec.queryToken) return null;
    if (typeof request.query.token === 'string') return request.query.token;
    if (typeof request.query.ticket === 'string') {
      const found = this.#tickets.get(request.query.ticket);
      this.#tickets.delete(request.query.ticket);
      return found && found.expiresAtMs > Date.now() ? found.token : null;
    }
    return null;
  }

  /**
   * Mounts a plugin's routes again after it was reconfigured: a route it
   * declares again gets the new handler, one it no longer declares answers 404.
   */
  remount(owner: string, specs: RouteSpec[]): void {
    for (let i = this.#routes.length - 1; i >= 0; i -= 1) {
      const r = this.#routes[i]!;
      if (r.owner === owner) this.#routes.splice(i, 1);
    }
    for (const [key, live] of this.#live) if (live?.owner === owner) this.#live.set(key, null);
    for (const spec of specs) this.mount(owner, spec);
  }

  mount(owner: string, spec: RouteSpec): void {
    if (spec.root && owner !== 'core') throw new Error(`${owner} ${spec.method} ${spec.path}: only the core mounts routes outside /api`);
    this.#routes.push({ owner, spec });
    const key = `${spec.method} ${spec.path}`;
    const known = this.#live.has(key);
    this.#live.set(key, { owner, spec });
    // hapi cannot replace a route: the one mounted first looks up its current owner and spec.
    if (known) return;
    this.#mountOnce(key, spec);
  }

  #mountOnce(key: string, first: RouteSpec): void {
    const { log, accounts } = this.#deps;
    const path = first.root ? first.path : `/api${first.path}`;
    const handler = async (request: Request, h: ResponseToolkit) => {
      const live = this.#live.get(key);
      if (!live) throw Boom.notFound(`no route ${first.method} ${path}`);
      const { owner, spec } = live;
      try {
        let principal: Principal | null = null;
        let token: string | null = null;
        if (spec.roles !== 'public') {
          token = this.#bearer(request, spec);
          principal = token ? await accounts.authenticate(token) : null;
          if (!principal) {
            const queryOnly = !spec.queryToken && (request.query.token !== undefined || request.query.ticket !== undefined);
            throw new ApiError(401, queryOnly ? 'send the token as "Authorization: Bearer"; ?token= is taken only on downloads and the event stream' : 'missing or invalid bearer token');
          }
          if (principal.role !== 'admin' && !spec.roles.includes(principal.role)) {
            throw new ApiError(403, `role ${principal.role} may not ${spec.method} ${path}`);
          }
        }
        const state = this.#deps.ownerState(owner);
        if (state !== 'running') throw new ApiError(503, `plugin ${owner} is ${state}`);
        const { token: _t, ticket: _k, ...query } = request.query as Record<string, unknown>;
        const nul = [...nulProblems(request.params, 'params'), ...nulProblems(query, 'query'), ...(spec.rawPayload ? [] : nulProblems(request.payload, 'body'))];
        if (nul.length) throw ApiError.badRequest(nul);
        const params = checkPart(spec.params, request.params, 'params');
        const q = checkPart(spec.query, query, 'query');
        const payload = spec.rawPayload ? request.payload : checkPart(spec.body, request.payload ?? (spec.body ? {} : undefined), 'body');
        return await spec.handler({ params, query: q, payload, principal, token, raw: request }, h);
      } catch (err) {
        throw toBoom(err, log, `${owner} ${spec.method} ${path}`);
      }
    };
    const spec = first;
    const { beforeBody } = spec;
    const bodyFailed = async (_r: Request, _h: ResponseToolkit, err?: Error) => {
      const status = Boom.isBoom(err) ? err.output.statusCode : 400;
      if (status === 415) throw new Boom.Boom(`body: send JSON with Content-Type: application/json${spec.rawPayload ? ` or one of ${spec.rawPayload.allow?.join(', ')}` : ''}`, { statusCode: 415 });
      if (status === 413) throw Boom.entityTooLarge(`body: larger than ${spec.rawPayload?.maxBytes ?? 1024 * 1024} bytes`);
      throw Boom.badRequest(`body: ${err?.message ?? 'not valid JSON'}`);
    };
    this.hapi.route({
      method: spec.method,
      path,
      handler,
      options: {
        payload: spec.rawPayload
          ? { parse: false, output: 'data', maxBytes: spec.rawPayload.maxBytes, allow: spec.rawPayload.allow, failAction: bodyFailed }
          // JSON routes take JSON only: a form post from another page must not act on them.
          : spec.method === 'GET' || spec.method === 'DELETE' ? undefined : { allow: JSON_ONLY, failAction: bodyFailed },
        // Before hapi reads the body: a refused upload costs its first packet, not its megabytes.
        ...(beforeBody ? {
          ext: {
            onPreAuth: {
              method: async (request: Request, h: ResponseToolkit) => {
                try {
                  await beforeBody(request.params as Record<string, string>);
                } catch (err) {
                  throw toBoom(err, log, `${this.#live.get(key)?.owner ?? 'gone'} ${spec.method} ${path}`);
                }
                return h.continue;
              },
            },
          },
        } : {}),
      },
    });
  }

  routes(): Mounted[] {
    return [...this.#routes];
  }

  async init(): Promise<void> {
    await this.hapi.register(Inert);
    const { uiDir } = this.#deps;
    this.hapi.route({
      method: 'GET',
      path: '/api/openapi.json',
      handler: () => buildOpenApi(this.#routes, this.#deps.version) as object,
    });
    const indexFile = join(uiDir, 'index.html');
    this.hapi.route({
      method: 'GET',
      path: '/{path*}',
      handler: {
        directory: { path: uiDir, index: true, redirectToSlash: false },
      },
    });
    this.hapi.ext('onPreResponse', (request, h) => {
      const res = request.response;
      // Unknown non-API paths are client-side routes of the single-page app (not /metrics: a scraper gets a 404 when it is off).
      if (Boom.isBoom(res) && res.output.statusCode === 404 && request.method === 'get' && !request.path.startsWith('/api') && request.path !== '/metrics') {
        const page = existsSync(indexFile)
          ? h.file(indexFile, { confine: false })
          : h.response('<h1>ChargeKeeper</h1><p>The UI is not built. Run <code>npm run build:ui</code>.</p>').type('text/html');
        for (const [k, v] of Object.entries(SECURITY_HEADERS)) page.header(k, v);
        return page;
      }
      if (Boom.isBoom(res)) Object.assign(res.output.headers, SECURITY_HEADERS);
      else for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.header(k, v);
      return h.continue;
    });
  }

  async start(): Promise<void> {
    await this.hapi.start();
  }

  get port(): number {
    return Number(this.hapi.info.port);
  }

  async stop(): Promise<void> {
    for (const close of this.#closers) close();
    await this.hapi.stop({ timeout: 3000 });
  }
}
