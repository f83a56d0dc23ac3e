import ocppRpc from 'ocpp-rpc';

const { createRPCError } = ocppRpc;

/**
 * What one charger may send. Everything on the LAN is untrusted, so every
 * size, rate and count a charger controls has a bound here; real chargers
 * stay far below each of them.
 */
export const LIMITS = {
  /** WebSocket frame (ws closes with 1009 above it). A MeterValues with 500 sampled values is ~60 KiB. */
  maxFrameBytes: 1024 * 1024,
  /** Calls of one charger waiting for their turn; OCPP allows one at a time, offline queues replay one by one. */
  maxQueuedCalls: 10,
  /** Highest connector id stored; a charger naming 2^31 connectors would otherwise create as many rows. */
  maxConnectorId: 32,
  /** MeterValue entries in one message (MeterValues.meterValue, StopTransaction.transactionData). */
  maxMeterValues: 1000,
  /** Sampled values inside one MeterValue. */
  maxSampledValues: 100,
  /** A sampled value is a number as text. */
  maxValueLength: 32,
  /** DataTransfer data stored and broadcast. */
  maxDataTransferChars: 16 * 1024,
} as const;

/** OCPP-J identity: 1–48 characters of identifierString (OCPP 2.0.1 part 2, also what 1.6 chargers use). */
export const IDENTITY_RE = /^[A-Za-z0-9*\-_=:+|@.]{1,48}$/;

type Params = Record<string, unknown>;

// ocpp-rpc 2.2.1 sends this to 1.6 chargers spelled "OccurrenceConstraintViolation" (its reading of errata 5.1).
const tooMany = (field: string, max: number) =>
  createRPCError('OccurenceConstraintViolation', `${field} has more than ${max} entries`);
const tooLong = (field: string, max: number) =>
  createRPCError('PropertyConstraintViolation', `${field} is longer than ${max} characters`);

function checkConnector(p: Params): void {
  const id = p.connectorId;
  if (typeof id === 'number' && id > LIMITS.maxConnectorId) {
    throw createRPCError('PropertyConstraintViolation', `connectorId ${id} is above ${LIMITS.maxConnectorId}`);
  }
}

function checkMeterValues(list: unknown, field: string): void {
  if (!Array.isArray(list)) return;
  if (list.length > LIMITS.maxMeterValues) throw tooMany(field, LIMITS.maxMeterValues);
  for (let i = 0; i < list.length; i++) {
    const sampled = (list[i] as { sampledValue?: unknown }).sampledValue;
    if (!Array.isArray(sampled)) continue;
    if (sampled.length > LIMITS.maxSampledValues) throw tooMany(`${field}[${i}].sampledValue`, LIMITS.maxSampledValues);
    for (let j = 0; j < sampled.length; j++) {
      const v = (sampled[j] as { value?: unknown }).value;
      if (typeof v === 'string' && v.length > LIMITS.maxValueLength) throw tooLong(`${field}[${i}].sampledValue[${j}].value`, LIMITS.maxValueLength);
    }
  }
}

/**
 * Bounds the schema leaves open (array lengths, free text, connector ids).
 * Throws the CALLERROR the OCPP 1.6 errata gives for each.
 */
export function checkBounds(action: string, params: unknown): void {
  const p = params as Params;
  if (!p || typeof p !== 'object') return;
  switch (action) {
    case 'MeterValues': checkConnector(p); checkMeterValues(p.meterValue, 'meterValue'); break;
    case 'StopTransaction': checkMeterValues(p.transactionData, 'transactionData'); break;
    case 'StartTransaction': case 'StatusNotification': checkConnector(p); break;
    case 'DataTransfer':
      if (typeof p.data === 'string' && p.data.length > LIMITS.maxDataTransferChars) throw tooLong('data', LIMITS.maxDataTransferChars);
      break;
    default:
  }
}

/**
 * Token bucket per charger: `perSecond` sustained, `burst` at once. A
 * charger over it gets a cheap CALLERROR instead of database work, so a
 * flooding charger cannot slow the others.
 */
export class RateLimit {
  #tokens: number;
  #lastMs: number;
  /** Calls refused in a row; the server closes a socket that keeps flooding. */
  refusedInRow = 0;

  constructor(readonly perSecond: number, readonly burst: number, nowMs: number) {
    this.#tokens = burst;
    this.#lastMs = nowMs;
  }

  take(nowMs: number): boolean {
    this.#tokens = Math.min(this.burst, this.#tokens + ((nowMs - this.#lastMs) / 1000) * this.perSecond);
    this.#lastMs = nowMs;
    if (this.#tokens < 1) {
      this.refusedInRow++;
      return false;
    }
    this.#tokens -= 1;
    this.refusedInRow = 0;
    return true;
  }
}

const INT32_MAX = 2 ** 31 - 1;
// Numbers stored in integer columns: ids, sequence numbers, list versions. A schema's "integer"
// allows 1e308; PostgreSQL refuses it, SQLite stores it as a float that matches nothing.
const STORED_AS_INTEGER = /(^id|Id|^seqNo|^listVersion|^versionNumber)$/;

/**
 * Makes a charger's payload safe to store, in place: a NUL character (which PostgreSQL text cannot
 * hold) becomes U+FFFD, and an id outside the 32-bit range is refused with the field named.
 * `checkIds: false` for replies to our own calls, whose ids we only compare.
 */
export function scrubPayload(value: unknown, checkIds = true, path = ''): unknown {
  if (typeof value === 'string') return value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = scrubPayload(value[i], checkIds, `${path}[${i}]`);
    return value;
  }
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      const v = o[key];
      if (typeof v === 'number') {
        if (checkIds && STORED_AS_INTEGER.test(key) && Math.abs(v) > INT32_MAX) {
          throw createRPCError('PropertyConstraintViolation', `${path ? `${path}.` : ''}${key} is outside the 32-bit range`);
        }
      } else if (v !== null && typeof v !== 'boolean') {
        o[key] = scrubPayload(v, checkIds, path ? `${path}.${key}` : key);
      }
    }
  }
  return value;
}

/** Printable form of text a peer chose, for log lines: control characters escaped, length cut. */
export function printable(text: unknown, max = 64): string {
  const s = String(text ?? '');
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  // eslint-disable-next-line no-control-regex
  return cut.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029"\\]/g, (c) => (c === '"' || c === '\\' ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
