import { performance } from 'node:perf_hooks';
import type { Counter, Histogram } from 'prom-client';
import { LATENCY_BUCKETS, type MetricsRegistry } from '../metrics.js';
import { EDITIONS } from './editions.js';

/** Label values are a bounded set: the actions of every OCPP version served and the error codes (ocpp-rpc's spellings included); anything else is "other". */
const ACTIONS = new Set(EDITIONS.flatMap((e) => [...Object.keys(e.handlers), ...Object.keys(e.commands)]));
const CODES = new Set([
  'NotImplemented', 'NotSupported', 'InternalError', 'ProtocolError', 'SecurityError', 'FormationViolation', 'FormatViolation',
  'PropertyConstraintViolation', 'OccurenceConstraintViolation', 'OccurrenceConstraintViolation', 'TypeConstraintViolation',
  'GenericError', 'RpcFrameworkError', 'MessageTypeNotSupported',
]);
const actionOf = (a: unknown): string => (typeof a === 'string' && ACTIONS.has(a) ? a : 'other');
const codeOf = (c: unknown): string => (typeof c === 'string' && CODES.has(c) ? c : 'other');

/** An OCPP-J frame as ocpp-rpc hands it to its 'call' and 'response' listeners: [type, messageId, ...]. */
type Frame = [number, string, ...unknown[]];
interface FrameEvents { on(event: string, fn: (e: never) => void): void }
const CALLERROR = 4;

/**
 * Counts and times every OCPP message at one place, ocpp-rpc's frame events of each socket: a message
 * costs a counter increment, and a reply a histogram observation and a map lookup; nothing is stored.
 */
export class OcppMetrics {
  readonly #errors: Counter<'action' | 'direction' | 'code'>;
  readonly #latency: Histogram<'action' | 'direction'>;
  readonly #unanswered: Counter<'action'>;
  readonly #badFrames: Counter;
  /** Messages counted since the last scrape, by action and direction: two per call, so kept out of prom-client until asked. */
  readonly #pending = new Map<string, { action: string; direction: string; n: number }>();

  constructor(m: MetricsRegistry) {
    const pending = this.#pending;
    m.counter({
      name: 'chargekeeper_ocpp_messages_total', help: 'OCPP messages (calls, results and errors) by action and direction (in: from chargers, out: to chargers)', labelNames: ['action', 'direction'],
      collect(this: Counter<'action' | 'direction'>) {
        for (const p of pending.values()) if (p.n) this.inc({ action: p.action, direction: p.direction }, p.n);
        pending.clear();
      },
    });
    this.#errors = m.counter({ name: 'chargekeeper_ocpp_errors_total', help: 'CALLERRORs by action, direction (out: we refused a charger\'s call, in: a charger refused ours) and error code', labelNames: ['action', 'direction', 'code'] });
    this.#latency = m.histogram({
      name: 'chargekeeper_ocpp_call_duration_seconds', buckets: LATENCY_BUCKETS, labelNames: ['action', 'direction'],
      help: 'Time from a call to its reply, by action; direction in: a charger\'s call until we replied, out: our call until the charger replied',
    });
    this.#unanswered = m.counter({ name: 'chargekeeper_ocpp_unanswered_calls_total', help: 'Our calls to chargers that got no reply (timeout, or the socket closed first)', labelNames: ['action'] });
    this.#badFrames = m.counter({ name: 'chargekeeper_ocpp_bad_frames_total', help: 'Frames from chargers that were not OCPP-J (not JSON, not a message, an unknown message id)' });
  }

  #count(action: string, direction: 'in' | 'out'): void {
    const key = `${action} ${direction}`;
    const p = this.#pending.get(key);
    if (p) p.n += 1;
    else this.#pending.set(key, { action, direction, n: 1 });
  }

  watch(client: FrameEvents): void {
    // Calls waiting for their reply, by message id: the charger's (we answer) and ours (it answers).
    const theirs = new Map<string, { action: string; at: number }>();
    const ours = new Map<string, { action: string; at: number }>();
    client.on('call', ({ outbound, payload }: { outbound: boolean; payload: Frame }) => {
      const action = actionOf(payload[2]);
      this.#count(action, outbound ? 'out' : 'in');
      (outbound ? ours : theirs).set(payload[1], { action, at: performance.now() });
    });
    client.on('response', ({ outbound, payload }: { outbound: boolean; payload: Frame }) => {
      const waiting = outbound ? theirs : ours;
      const call = waiting.get(payload[1]);
      if (call) waiting.delete(payload[1]);
      const action = call?.action ?? 'other';
      const direction = outbound ? 'out' : 'in';
      this.#count(action, direction);
      // The call's direction: our reply ends a charger's call ("in").
      if (call) this.#latency.observe({ action, direction: outbound ? 'in' : 'out' }, (performance.now() - call.at) / 1000);
      if (payload[0] === CALLERROR) this.#errors.inc({ action, direction, code: codeOf(payload[2]) });
    });
    client.on('callError', ({ outbound, messageId, method }: { outbound: boolean; messageId: string; method: string }) => {
      // Still waiting when ocpp-rpc gave up on our call: no reply came.
      if (outbound && ours.delete(messageId)) this.#unanswered.inc({ action: actionOf(method) });
    });
    client.on('badMessage', ({ response }: { response: Frame | null }) => {
      this.#badFrames.inc();
      if (!response) return;
      this.#count('other', 'out');
      this.#errors.inc({ action: 'other', direction: 'out', code: codeOf(response[2]) });
    });
  }
}
