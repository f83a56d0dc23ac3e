import ocppRpc from 'ocpp-rpc';
import { fieldName, standardValidator, type Validator } from '../validators.js';

const { createRPCError } = ocppRpc;
const standardV16 = standardValidator('ocpp1.6');

/** A string field lenient mode cut to its OCPP 1.6 maximum. */
export interface Cut { field: string; maxLength: number; length: number }

/**
 * Inbound requests whose only faults are strings over their maximum length, with a cut copy; read (once) by
 * #dispatch, which knows the charger and so whether it is lenient. Weak: a message refused earlier leaves nothing.
 */
export const overLong = new WeakMap<object, { params: Record<string, unknown>; cuts: Cut[] }>();

/** A copy of params with each over-long string cut, or null when another fault remains or a card id is too long. */
function cutOverLong(schemaId: string, params: object): { params: Record<string, unknown>; cuts: Cut[] } | null {
  const copy = structuredClone(params) as Record<string, unknown>;
  const cuts: Cut[] = [];
  for (let i = 0; i < 50; i++) {
    try {
      standardV16.validate(schemaId, copy);
      return { params: copy, cuts };
    } catch (err) {
      const e = (err as { details?: { errors?: Array<{ keyword: string; instancePath: string; params?: { limit?: number } }> } }).details?.errors?.[0];
      if (!e || e.keyword !== 'maxLength' || typeof e.params?.limit !== 'number') return null;
      const path = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
      // A cut card id could name another card: that is always refused.
      if (/idTag$/i.test(path[path.length - 1] ?? '')) return null;
      let node: unknown = copy;
      for (const p of path.slice(0, -1)) node = (node as Record<string, unknown>)[p];
      const key = path[path.length - 1]!;
      const value = (node as Record<string, unknown>)[key] as string;
      cuts.push({ field: fieldName(e.instancePath), maxLength: e.params.limit, length: value.length });
      (node as Record<string, unknown>)[key] = value.slice(0, e.params.limit);
    }
  }
  return null;
}

/**
 * The bundled OCPP 1.6 validator, except that a value outside an enumeration
 * or a string over its maximum length is answered PropertyConstraintViolation
 * ("a field contains an invalid value", OCPP-J 1.6 errata) instead of
 * FormationViolation, and an unknown action NotImplemented instead of
 * ProtocolError. A charger's request whose only faults are too-long strings
 * passes here and is decided in #dispatch (refused, or cut in lenient mode).
 */
export function v16Validate(schemaId: string, params: unknown, deferOverLong: boolean): boolean {
  try {
    return standardV16.validate(schemaId, params);
  } catch (err) {
    const details = (err as { details?: { errors?: Array<{ keyword: string; instancePath?: string; params?: { limit?: number } }> } }).details;
    const first = details?.errors?.[0];
    if (first?.keyword === 'maxLength') {
      const cut = deferOverLong && schemaId.endsWith('.req') && params && typeof params === 'object' ? cutOverLong(schemaId, params) : null;
      if (cut) {
        overLong.set(params as object, cut);
        return true;
      }
      throw createRPCError('PropertyConstraintViolation', `${fieldName(first.instancePath ?? '') || 'a field'} is longer than ${first.params?.limit ?? 'allowed'} characters`, details);
    }
    if (first?.keyword === 'enum') {
      throw createRPCError('PropertyConstraintViolation', (err as Error).message, details);
    }
    // No schema means an action OCPP 1.6 does not define.
    if ((err as { rpcErrorCode?: string }).rpcErrorCode === 'ProtocolError' && /^Schema '/.test((err as Error).message)) {
      throw createRPCError('NotImplemented', `${schemaId.replace(/^urn:|\.(req|conf)$/g, '')} is not an OCPP 1.6 action`);
    }
    throw err;
  }
}

/** What ocpp-rpc validates charger traffic with. */
export const v16Validator: Validator = { subprotocol: 'ocpp1.6', validate: (schemaId, params) => v16Validate(schemaId, params, true) };
