import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Hapi, { type Request, type ResponseToolkit } from '@hapi/hapi';
import Inert from '@hapi/inert';
import Boom from '@hapi/boom';
import type { Accounts } from '../accounts.js';
import type { CoreConfig } from '../config.js';
import { ApiError } from '../errors.js';
import type { Logger, Principal, RouteSpec } from '../types.js';
import { checkPart } from './validate.js';
import { buildOpenApi } from './openapi.js';

export interface HttpDeps {
  config: CoreConfig;
  log: Logger;
  accounts: Accounts;
  version: string;
  uiDir: string;
  /** For the owner of a route: is it usable now? A failed plugin's routes answer 503. */
  ownerState(owner: string): 'running' | 'failed' | 'stopped' | 'starting';
}

interface Mounted { owner: string; spec: RouteSpec }

function bearer(request: Request, spec: RouteSpec): string | null {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.toLowerCase().startsWith('bearer ')) return header.slice(7).trim();
  // EventSource and download links cannot set headers.
  if (spec.method === 'GET' && typeof request.query.token === 'string') return request.query.token;
  return null;
}

function toBoom(err: unknown, log: Logger, where: string): Boom.Boom {
  if (err instanceof ApiError) {
    const boom = new Boom.Boom(err.message, { statusCode: err.status });
    if (err.errors.length) (boom.output.payload as unknown as Record<string, unknown>).errors = err.errors;
    if (err.retryAfterSeconds !== undefined) boom.output.headers['Retry-After'] = String(err.retryAfterSeconds);
    return boom;
  }
  if (Boom.isBoom(err)) return err;
  log.error(`${where} failed: ${err instanceof Error ? err.message : String(err)}`, { stack: err instanceof Error ? err.stack : undefined });
  return Boom.badImplementation();
}

/** The hapi server: API routes under /api with bearer auth and roles, the built UI at /. */
export class HttpServer {
  readonly hapi: Hapi.Server;
  readonly #deps: HttpDeps;
  readonly #routes: Mounted[] = [];
  readonly #closers = new Set<() => void>();

  constructor(deps: HttpDeps) {
    this.#deps = deps;
    const { http } = deps.config;
    this.hapi = Hapi.server({
      host: http.host,
      port: http.port,
      tls: http.tls ? { cert: readFileSync(http.tls.cert), key: readFileSync(http.tls.key) } : undefined,
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

  mount(owner: string, spec: RouteSpec): void {
    this.#routes.push({ owner, spec });
    const { log, accounts } = this.#deps;
    const path = `/api${spec.path}`;
    const handler = async (request: Request, h: ResponseToolkit) => {
      try {
        let principal: Principal | null = null;
        if (spec.roles !== 'public') {
          const token = bearer(request, spec);
          principal = token ? await accounts.authenticate(token) : null;
          if (!principal) throw new ApiError(401, 'missing or invalid bearer token');
          if (principal.role !== 'admin' && !spec.roles.includes(principal.role)) {
            throw new ApiError(403, `role ${principal.role} may not ${spec.method} ${path}`);
          }
        }
        const state = this.#deps.ownerState(owner);
        if (state !== 'running') throw new ApiError(503, `plugin ${owner} is ${state}`);
        const params = checkPart(spec.params, request.params, 'params');
        const { token: _t, ...query } = request.query as Record<string, unknown>;
        const q = checkPart(spec.query, query, 'query');
        const payload = spec.rawPayload ? request.payload : checkPart(spec.body, request.payload ?? (spec.body ? {} : undefined), 'body');
        return await spec.handler({ params, query: q, payload, principal, raw: request }, h);
      } catch (err) {
        throw toBoom(err, log, `${owner} ${spec.method} ${path}`);
      }
    };
    this.hapi.route({
      method: spec.method,
      path,
      handler,
      options: {
        payload: spec.rawPayload
          ? { parse: false, output: 'data', maxBytes: spec.rawPayload.maxBytes, allow: spec.rawPayload.allow }
          : spec.method === 'GET' || spec.method === 'DELETE' ? undefined : { failAction: async (_r, _h, err) => { throw Boom.badRequest(`body: ${err?.message ?? 'not valid JSON'}`); } },
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
    // Unknown non-API paths are client-side routes of the single-page app.
    this.hapi.ext('onPreResponse', (request, h) => {
      const res = request.response;
      if (Boom.isBoom(res) && res.output.statusCode === 404 && request.method === 'get' && !request.path.startsWith('/api')) {
        if (existsSync(indexFile)) return h.file(indexFile, { confine: false });
        return h.response('<h1>ChargeKeeper</h1><p>The UI is not built. Run <code>npm run build:ui</code>.</p>').type('text/html');
      }
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
