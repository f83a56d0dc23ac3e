import WebSocket, { type ClientOptions } from 'ws';

/** A raw WebSocket charger, to send frames no OCPP library would and to read the server's answers. */
export interface RawCharger {
  ws: WebSocket;
  /** Resolves with the server's reply to the call with this message id. */
  reply(messageId: string, timeoutMs?: number): Promise<unknown[]>;
  call(messageId: string, action: string, payload: unknown): Promise<unknown[]>;
  /** Resolves with the next frame the server sends, whatever its id (for replies to frames that have none); use it or reply(), not both. */
  next(): Promise<unknown[]>;
  closed: Promise<{ code: number; reason: string }>;
}

export async function rawCharger(port: number, id: string, opts: ClientOptions & { password?: string; protocol?: string } = {}): Promise<RawCharger> {
  const headers: Record<string, string> = {};
  if (opts.password) headers.authorization = `Basic ${Buffer.from(`${id}:${opts.password}`).toString('base64')}`;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/${id}`, [opts.protocol ?? 'ocpp1.6'], { headers, ...opts });
  const replies = new Map<string, unknown[]>();
  const waiters = new Map<string, (m: unknown[]) => void>();
  const inbox: unknown[][] = [];
  const nextWaiters: Array<(m: unknown[]) => void> = [];
  ws.on('message', (data) => {
    let msg: unknown;
    try { msg = JSON.parse(String(data)); } catch { return; }
    if (Array.isArray(msg)) {
      const w = nextWaiters.shift();
      if (w) w(msg); else inbox.push(msg);
    }
    if (!Array.isArray(msg) || (msg[0] !== 3 && msg[0] !== 4)) return;
    const mid = String(msg[1]);
    const w = waiters.get(mid);
    if (w) { waiters.delete(mid); w(msg); } else replies.set(mid, msg);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const reply = (messageId: string, timeoutMs = 5000) => new Promise<unknown[]>((resolve, reject) => {
    const have = replies.get(messageId);
    if (have) { replies.delete(messageId); resolve(have); return; }
    const timer = setTimeout(() => { waiters.delete(messageId); reject(new Error(`no reply to ${messageId}`)); }, timeoutMs);
    waiters.set(messageId, (m) => { clearTimeout(timer); resolve(m); });
  });
  return {
    ws, reply, closed,
    next: () => new Promise((resolve) => {
      const m = inbox.shift();
      if (m) resolve(m); else nextWaiters.push(resolve);
    }),
    call: (messageId, action, payload) => {
      ws.send(JSON.stringify([2, messageId, action, payload]));
      return reply(messageId);
    },
  };
}

/** The HTTP status a WebSocket upgrade gets (101 when accepted; the socket is closed again at once). */
export function upgradeStatus(port: number, id: string, password?: string): Promise<number> {
  const headers: Record<string, string> = {};
  if (password !== undefined) headers.authorization = `Basic ${Buffer.from(`${id}:${password}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/${id}`, ['ocpp1.6'], { headers });
    ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); res.resume(); ws.terminate(); });
    ws.once('open', () => { resolve(101); ws.close(); });
    ws.once('error', (err) => { if (!String(err).includes('Unexpected server response')) reject(err); });
  });
}
