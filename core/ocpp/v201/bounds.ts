import ocppRpc from 'ocpp-rpc';
import { LIMITS } from '../limits.js';

const { createRPCError } = ocppRpc;

type Params = Record<string, unknown>;

const tooMany = (field: string, max: number) => createRPCError('OccurrenceConstraintViolation', `${field} has more than ${max} entries`);

function checkId(field: string, id: unknown): void {
  if (typeof id === 'number' && (id > LIMITS.maxConnectorId || id < 0)) {
    throw createRPCError('PropertyConstraintViolation', `${field} ${id} is outside 0–${LIMITS.maxConnectorId}`);
  }
}

function checkMeterValues(list: unknown, field: string): void {
  if (!Array.isArray(list)) return;
  if (list.length > LIMITS.maxMeterValues) throw tooMany(field, LIMITS.maxMeterValues);
  for (let i = 0; i < list.length; i++) {
    const sampled = (list[i] as { sampledValue?: unknown }).sampledValue;
    if (Array.isArray(sampled) && sampled.length > LIMITS.maxSampledValues) throw tooMany(`${field}[${i}].sampledValue`, LIMITS.maxSampledValues);
  }
}

/** The bounds of core/ocpp/limits.ts for the 2.0.1 messages: EVSE ids (the neutral connector ids) and reading counts. */
export function checkBounds201(action: string, params: unknown): void {
  const p = params as Params;
  if (!p || typeof p !== 'object') return;
  switch (action) {
    case 'StatusNotification': checkId('evseId', p.evseId); break;
    case 'MeterValues': checkId('evseId', p.evseId); checkMeterValues(p.meterValue, 'meterValue'); break;
    case 'TransactionEvent':
      checkId('evse.id', (p.evse as Params | undefined)?.id);
      checkMeterValues(p.meterValue, 'meterValue');
      break;
    case 'NotifyEvent':
      if (Array.isArray(p.eventData) && p.eventData.length > LIMITS.maxMeterValues) throw tooMany('eventData', LIMITS.maxMeterValues);
      break;
    default:
  }
}
