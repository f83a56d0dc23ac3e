import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ApiError } from '../errors.js';
import { problems } from '../schema.js';

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
  const found = problems(schema, v);
  if (found.length) {
    throw ApiError.badRequest(found.map((p) => ({
      field: p.path === '(root)' ? part : p.path,
      message: p.message,
    })));
  }
  return Value.Decode(schema, v) as T;
}
