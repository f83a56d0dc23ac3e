import type { TSchema } from '@sinclair/typebox';
import type { Knex } from 'knex';
import type { Request, ResponseToolkit, ResponseValue } from '@hapi/hapi';

/** Operator and driver roles, most powerful first. */
export const ROLES = ['admin', 'installer', 'technician', 'viewer', 'driver'] as const;
export type Role = (typeof ROLES)[number];

/** Roles that may read operational data (everything but drivers). */
export const STAFF: Role[] = ['admin', 'installer', 'technician', 'viewer'];

export interface Logger {
  debug(msg: string, extra?: Record<string, unknown>): void;
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
  child(tag: string): Logger;
}

/** One schema migration; ids sort in application order ("001-create-tags"). */
export interface Migration {
  id: string;
  up(db: Knex): Promise<void>;
  down?(db: Knex): Promise<void>;
}

/** The caller of an API route, once authenticated. */
export interface Principal {
  userId: number;
  username: string;
  role: Role;
}

export interface RouteRequest<P = Record<string, string>, Q = Record<string, unknown>, B = unknown> {
  params: P;
  query: Q;
  payload: B;
  principal: Principal | null;
  /** The bearer token this request came with (null on public routes), for streams that must end with it. */
  token: string | null;
  raw: Request;
}

export type RouteHandler = (
  req: RouteRequest<any, any, any>, // eslint-style escape: each route narrows its own request shape
  h: ResponseToolkit,
) => Promise<ResponseValue | symbol> | ResponseValue | symbol;

/** An HTTP route a plugin or the core mounts under /api. */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path under /api, e.g. "/tags/{idTag}". */
  path: string;
  /** Mounted at `path` itself rather than under /api: GET /metrics, where scrapers look. */
  root?: boolean;
  /** Roles allowed; 'public' needs no token. admin is always allowed. */
  roles: Role[] | 'public';
  summary: string;
  params?: TSchema;
  query?: TSchema;
  body?: TSchema;
  /** Response schema, documented in the OpenAPI document only. */
  response?: TSchema;
  /** Raw payload (uploads, CSV); body validation is then skipped. */
  rawPayload?: { maxBytes: number; allow?: string[] };
  /**
   * GET downloads and the event stream only: links and EventSource cannot send
   * an Authorization header, so the token may come as ?token= or as a
   * one-time ?ticket= from POST /api/auth/ticket. Elsewhere a query token is
   * refused, so tokens stay out of proxy logs and browser history.
   */
  queryToken?: boolean;
  /** Parts of a route narrower than `roles` (some commands are installer-only); shown as x-restricted in OpenAPI. */
  restricted?: { roles: Role[]; actions?: string[]; configurationKeys?: string[] };
  /** Runs before the body is read (upload routes check their one-time token here); throw ApiError to refuse. */
  beforeBody?: (params: Record<string, string>) => Promise<void> | void;
  handler: RouteHandler;
}

/** A navigation entry for a Svelte page that a plugin ships in plugins/<name>/ui/<component>.svelte. */
export interface PageSpec {
  path: string;
  title: string;
  component: string;
  roles: Role[];
  /** Icon glyph shown in the navigation. */
  icon?: string;
}
