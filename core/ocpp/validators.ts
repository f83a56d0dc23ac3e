import { createRequire } from 'node:module';
import { CommandPayloadError } from './send-error.js';

/** What ocpp-rpc calls on a strict-mode validator (duck-typed: only these two members). */
export interface Validator { subprotocol: string; validate(schemaId: string, params: unknown): boolean }

const require = createRequire(import.meta.url);
const bundled = require('ocpp-rpc/lib/standard-validators.js') as Validator[];

/** ocpp-rpc's bundled JSON-schema validator of one OCPP-J subprotocol. */
export function standardValidator(subprotocol: string): Validator {
  const v = bundled.find((x) => x.subprotocol === subprotocol);
  if (!v) throw new Error(`ocpp-rpc has no schemas for ${subprotocol}`);
  return v;
}

/** "/meterValue/0/sampledValue/1/unit" as "meterValue[0].sampledValue[1].unit". */
export const fieldName = (pointer: string) => pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  .reduce((out, p) => (/^\d+$/.test(p) ? `${out}[${p}]` : out ? `${out}.${p}` : p), '');

/** A validator's rejection of an operator's command payload as a CommandPayloadError naming each bad field. */
export function commandPayloadError(action: string, err: unknown): CommandPayloadError {
  const errors = ((err as { details?: { errors?: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }> } }).details?.errors) ?? [];
  const fields = errors.map((e) => {
    const base = e.instancePath.replace(/^\//, '').replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.');
    const missing = e.params?.missingProperty as string | undefined;
    const extra = e.params?.additionalProperty as string | undefined;
    const field = missing ? (base ? `${base}.${missing}` : missing) : extra ? (base ? `${base}.${extra}` : extra) : base || '(body)';
    const allowed = e.params?.allowedValues as unknown[] | undefined;
    return { field, message: allowed ? `must be one of ${allowed.join(', ')}` : extra ? 'is not a field of this request' : e.message ?? 'is invalid' };
  });
  return new CommandPayloadError(`invalid ${action} request`, fields.length ? fields : [{ field: '(body)', message: (err as Error).message }]);
}
