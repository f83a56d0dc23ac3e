import ocppRpc from 'ocpp-rpc';
import { fieldName, standardValidator, type Validator } from '../validators.js';

const { createRPCError } = ocppRpc;
const standard = standardValidator('ocpp2.0.1');

/**
 * The bundled OCPP 2.0.1 validator with the error codes of OCPP-J 2.0.1
 * (part 4, 4.3): a value outside an enumeration or a string over its
 * maximum is PropertyConstraintViolation ("a field contains an invalid
 * value"), the correctly spelled OccurrenceConstraintViolation (ocpp-rpc
 * fixes the spelling for 1.6 only), a payload that is not an object at all
 * is FormatViolation (it does not have the PDU's structure), and an action
 * 2.0.1 does not define is NotImplemented rather than ProtocolError.
 */
export function v201Validate(schemaId: string, params: unknown): boolean {
  try {
    return standard.validate(schemaId, params);
  } catch (err) {
    const e = err as Error & { rpcErrorCode?: string; details?: { errors?: Array<{ keyword: string; instancePath?: string; params?: { limit?: number } }> } };
    const first = e.details?.errors?.[0];
    if (first?.keyword === 'maxLength') {
      throw createRPCError('PropertyConstraintViolation', `${fieldName(first.instancePath ?? '') || 'a field'} is longer than ${first.params?.limit ?? 'allowed'} characters`, e.details);
    }
    if (first?.keyword === 'type' && !first.instancePath) throw createRPCError('FormatViolation', 'the payload is not a JSON object', e.details);
    if (first?.keyword === 'enum') throw createRPCError('PropertyConstraintViolation', e.message, e.details);
    if (e.rpcErrorCode === 'OccurenceConstraintViolation') throw createRPCError('OccurrenceConstraintViolation', e.message, e.details);
    if (e.rpcErrorCode === 'ProtocolError' && /^Schema '/.test(e.message)) {
      throw createRPCError('NotImplemented', `${schemaId.replace(/^urn:|\.(req|conf)$/g, '')} is not an OCPP 2.0.1 action`);
    }
    throw err;
  }
}

/** What ocpp-rpc validates 2.0.1 charger traffic with. */
export const v201Validator: Validator = { subprotocol: 'ocpp2.0.1', validate: v201Validate };
