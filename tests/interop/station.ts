import { randomUUID } from 'node:crypto';
import { OCPP16, OCPP20 } from 'typed-ocpp';
import WebSocket from 'ws';
import type { TestApp } from '../kit/index.js';

/**
 * A charging station whose every frame is checked by typed-ocpp (the OCA JSON schemas, in another project's code)
 * over a plain `ws` socket: what it sends must be valid OCPP, and whatever the appliance sends back that is not is
 * written down in `violations`. None of our own OCPP code (ocpp-rpc, core/ocpp) is on this side of the socket.
 */

export type Edition = 'ocpp2.0.1' | 'ocpp1.6';
type Check = ((value: unknown) => boolean) & { errors: string[] };
/** The part of typed-ocpp's API this station uses, the same for both editions. */
interface Schemas { validateCall: Check; validateCallError: Check; checkCallResult: ((result: unknown, call: unknown) => boolean) & { errors: string[] } }
const LIB: Record<Edition, Schemas> = { 'ocpp2.0.1': OCPP20 as unknown as Schemas, 'ocpp1.6': OCPP16 as unknown as Schemas };

/** A CALLERROR the appliance answered. */
export class CallError extends Error {
  constructor(readonly code: string, readonly description: string) { super(`${code}: ${description}`); }
}

// any: an OCPP payload; each test reads the fields it needs.
export type Payload = Record<string, any>;

export interface Station {
  id: string;
  /** The subprotocol the appliance chose. */
  protocol: string;
  ws: WebSocket;
  /** What the appliance sent that breaks the OCA schemas, in words (a test expects none). */
  violations: string[];
  /** A schema-valid CALL (checked before it leaves); resolves with the checked CALLRESULT, rejects with a CallError. */
  call<T = Payload>(action: string, payload: Payload): Promise<T>;
  /** A frame as it is, valid or not; resolves with the appliance's answer to this message id. */
  raw(frame: unknown[] | string, messageId?: string): Promise<unknown[]>;
  /** Answers the appliance's CALLs of this action; the answer is checked against the schemas too. */
  handle(action: string, fn: (payload: Payload) => Payload | Promise<Payload>): void;
  close(): Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
}

export interface ConnectOptions { protocols?: string[]; password?: string }

/** Opens a station's socket to /ocpp/<id>, asking for ocpp2.0.1 unless told otherwise. */
export async function connectStation(t: TestApp, id: string, opts: ConnectOptions = {}): Promise<Station> {
  const headers: Record<string, string> = {};
  if (opts.password) headers.authorization = `Basic ${Buffer.from(`${id}:${opts.password}`).toString('base64')}`;
  const ws = new WebSocket(`ws://127.0.0.1:${t.port}/ocpp/${encodeURIComponent(id)}`, opts.protocols ?? ['ocpp2.0.1'], { headers });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const protocol = ws.protocol;
  if (protocol !== 'ocpp2.0.1' && protocol !== 'ocpp1.6') throw new Error(`the appliance chose ${JSON.stringify(protocol)}`);
  const lib = LIB[protocol];
  const pending = new Map<string, { call: unknown[] | null; resolve: (m: unknown[]) => void }>();
  const handlers = new Map<string, (payload: Payload) => Payload | Promise<Payload>>();
  const violations: string[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));

  const answerCall = async (msg: unknown[]): Promise<unknown[]> => {
    const [, mid, action, payload] = msg as [number, string, string, Payload];
    if (!lib.validateCall(msg)) violations.push(`${action} from the appliance: ${lib.validateCall.errors.join('; ')}`);
    const fn = handlers.get(action);
    if (!fn) return [4, mid, 'NotImplemented', `${action} is not handled by this station`, {}];
    const result = [3, mid, await fn(payload)];
    // A test's own answer must be valid OCPP as well, or the test proves nothing.
    if (!lib.checkCallResult(result, msg)) throw new Error(`the station's answer to ${action} breaks the schema: ${lib.checkCallResult.errors.join('; ')}`);
    return result;
  };

  ws.on('message', (data) => {
    let msg: unknown;
    try { msg = JSON.parse(String(data)); } catch { violations.push('a frame that is not JSON'); return; }
    if (!Array.isArray(msg)) { violations.push('a frame that is not an array'); return; }
    if (msg[0] === 2) {
      answerCall(msg).then((reply) => ws.send(JSON.stringify(reply)), (err: unknown) => violations.push(String(err)));
      return;
    }
    const waiter = pending.get(String(msg[1]));
    if (!waiter) { violations.push(`an answer to nothing: ${String(msg[1])}`); return; }
    pending.delete(String(msg[1]));
    // typed-ocpp keeps 1.6's spelling FormationViolation for 2.0.1, whose OCPP-J part (4.3) spells it FormatViolation.
    const asLibSpells = protocol === 'ocpp2.0.1' && msg[2] === 'FormatViolation' ? [msg[0], msg[1], 'FormationViolation', ...msg.slice(3)] : msg;
    if (msg[0] === 4 && !lib.validateCallError(asLibSpells)) violations.push(`CALLERROR: ${lib.validateCallError.errors.join('; ')}`);
    if (msg[0] === 3 && waiter.call && !lib.checkCallResult(msg, waiter.call)) {
      violations.push(`answer to ${String(waiter.call[2])}: ${lib.checkCallResult.errors.join('; ')}`);
    }
    waiter.resolve(msg);
  });

  const raw: Station['raw'] = (frame, messageId) => {
    const mid = messageId ?? (Array.isArray(frame) ? String(frame[1]) : '');
    const answer = new Promise<unknown[]>((resolve, reject) => {
      const timer = setTimeout(() => { pending.delete(mid); reject(new Error(`no answer to ${mid}`)); }, 5000);
      pending.set(mid, { call: Array.isArray(frame) && frame[0] === 2 ? frame : null, resolve: (m) => { clearTimeout(timer); resolve(m); } });
    });
    ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    return answer;
  };

  return {
    id, protocol, ws, violations, raw, closed,
    async call<T>(action: string, payload: Payload): Promise<T> {
      const frame = [2, randomUUID(), action, payload];
      if (!lib.validateCall(frame)) throw new Error(`this ${action} is not valid ${protocol}: ${lib.validateCall.errors.join('; ')}`);
      const answer = await raw(frame);
      if (answer[0] === 4) throw new CallError(String(answer[2]), String(answer[3]));
      return answer[2] as T;
    },
    handle(action, fn) { handlers.set(action, fn); },
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.close(1000);
      await closed;
    },
  };
}

/** The HTTP status and chosen subprotocol of an upgrade (101 when taken; the socket is closed again at once). */
export function upgrade(t: TestApp, id: string, protocols: string[]): Promise<{ status: number; protocol: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${t.port}/ocpp/${encodeURIComponent(id)}`, protocols);
    ws.once('open', () => { resolve({ status: 101, protocol: ws.protocol }); ws.terminate(); });
    ws.once('unexpected-response', (_req, res) => { resolve({ status: res.statusCode ?? 0, protocol: '' }); res.resume(); ws.terminate(); });
    ws.once('error', (err) => { if (!String(err).includes('Unexpected server response')) reject(err); });
  });
}
