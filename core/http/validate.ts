import type { ResponseToolkit } from '@hapi/hapi';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ApiError, type FieldProblem } from '../errors.js';
import { problems } from '../schema.js';
import type { RouteRequest, RouteSpec } from '../types.js';

/** One bad field of a request: its path and what is wrong with it. */
export type { FieldProblem };

// Body schemas whose problems the route reports itself, together with its hand checks (see withChecks).
const deferred = new WeakSet<TSchema>();

const schemaProblems = (schema: TSchema, value: unknown, part: string): FieldProblem[] =>
  problems(schema, value).map((p) => ({ field: p.path === '(root)' ? part : p.path, message: p.message }));

/** Fields holding a NUL character: no text column stores one (PostgreSQL refuses it), so it is a 400. */
export function nulProblems(value: unknown, field: string, found: FieldProblem[] = []): FieldProblem[] {
  if (found.length >= 20) return found;
  if (typeof value === 'string') {
    if (value.includes('\0')) found.push({ field, message: 'contains a NUL character' });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => nulProblems(v, `${field}[${i}]`, found));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\0')) found.push({ field, message: 'has a key with a NUL character' });
      else nulProblems(v, field === 'body' || field === 'query' || field === 'params' ? k : `${field}.${k}`, found);
    }
  }
  return found;
}

/**
 * Checks one part of a request against its TypeBox schema and returns the
 * decoded value. Query and path strings are converted first ("5" → 5).
 * Each bad field becomes one entry of a 400 answer.
 */
export function checkPart<T>(schema: TSchema | undefined, value: unknown, part: 'params' | 'query' | 'body'): T {
  if (!schema) return value as T;
  let v: unknown = Value.Clone(value ?? (part === 'body' ? undefined : {}));
  if (part !== 'body') v = Value.Convert(schema, v);
  v = Value.Default(schema, v);
  if (part === 'body' && deferred.has(schema)) return v as T;
  const found = schemaProblems(schema, v, part);
  if (found.length) throw ApiError.badRequest(found);
  return Value.Decode(schema, v) as T;
}

/**
 * A route whose hand checks (stored state, the caller's role, secrets that a
 * 400 must not echo) are answered in the same 400 as its body schema's
 * problems, so a client learns every bad field at once. The checks see the
 * body as sent, defaults applied: where the schema complains it may be malformed.
 */
export function withChecks<B>(
  spec: RouteSpec,
  check: (req: RouteRequest<Record<string, never>, Record<string, unknown>, Partial<B>>) => FieldProblem[] | Promise<FieldProblem[]>,
): RouteSpec {
  const body = spec.body;
  if (!body) throw new Error(`${spec.method} ${spec.path}: withChecks needs a body schema`);
  // A copy keeps the OpenAPI document as it was while this route alone reports its schema's problems.
  const own = { ...body } as TSchema;
  deferred.add(own);
  return {
    ...spec,
    body: own,
    // any: RouteHandler's request is any-typed by design (core/types.ts); each route narrows its own.
    handler: async (req: RouteRequest<any, any, any>, h: ResponseToolkit) => {
      const found = schemaProblems(body, req.payload, 'body');
      const named = new Set(found.map((p) => p.field));
      const isObject = typeof req.payload === 'object' && req.payload !== null && !Array.isArray(req.payload);
      const more = isObject ? (await check(req)).filter((p) => !named.has(p.field)) : [];
      if (found.length || more.length) throw ApiError.badRequest([...found, ...more]);
      return spec.handler({ ...req, payload: Value.Decode(body, req.payload) }, h);
    },
  };
}
