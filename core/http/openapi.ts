import type { TSchema } from '@sinclair/typebox';
import type { RouteSpec } from '../types.js';

/** The OpenAPI 3.1 document of every mounted route, built from the same TypeBox schemas that validate them. */
export function buildOpenApi(routes: Array<{ owner: string; spec: RouteSpec }>, version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { owner, spec } of routes) {
    const path = spec.root ? spec.path : `/api${spec.path}`;
    const op: Record<string, unknown> = {
      summary: spec.summary,
      tags: [owner],
      security: spec.roles === 'public' ? [] : [{ bearer: [] }],
      'x-roles': spec.roles === 'public' ? 'public' : ['admin', ...spec.roles.filter((r) => r !== 'admin')],
      ...(spec.restricted ? { 'x-restricted': { ...spec.restricted, roles: ['admin', ...spec.restricted.roles.filter((r) => r !== 'admin')] } } : {}),
      parameters: [
        ...params(spec.params, 'path'),
        ...params(spec.query, 'query'),
      ],
      responses: {
        200: { description: 'OK', ...(spec.response ? { content: { 'application/json': { schema: clean(spec.response) } } } : {}) },
        400: { description: 'Bad input: { message, errors: [{ field, message }] }' },
        ...(spec.roles === 'public' ? {} : { 401: { description: 'No or invalid token' }, 403: { description: 'Role not allowed' } }),
      },
    };
    if (spec.body) op.requestBody = { required: true, content: { 'application/json': { schema: clean(spec.body) } } };
    (paths[path] ??= {})[spec.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'ChargeKeeper API', version },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}

function clean(schema: TSchema): unknown {
  return JSON.parse(JSON.stringify(schema));
}

function params(schema: TSchema | undefined, where: 'path' | 'query'): unknown[] {
  const props = (schema as { properties?: Record<string, TSchema> } | undefined)?.properties;
  if (!props) return [];
  const required = new Set((schema as { required?: string[] }).required ?? []);
  return Object.entries(props).map(([name, s]) => ({ name, in: where, required: where === 'path' || required.has(name), schema: clean(s) }));
}
