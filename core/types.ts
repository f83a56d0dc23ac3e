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
