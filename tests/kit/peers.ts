// Real peers on 127.0.0.1 for the tests that send out of the box: an SMTP server, an MQTT broker, an HTTP receiver.
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { useTeardown } from './teardown.js';

export interface Mail {
  from: string;
  to: string[];
  subject: string;
  /** The message with quoted-printable undone, to search for words and links. */
  text: string;
  /** Date.now() when the server accepted it, for latency bounds. */
  receivedAt: number;
}

/** A free loopback port nothing listens on (yet), so a config can name it before its server starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function decodeQuotedPrintable(raw: string): string {
  const bytes: number[] = [];
  const text = raw.replace(/=\r?\n/g, '');
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === '=' && /^[0-9A-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(text[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

export interface SmtpOptions { port?: number; auth?: { user: string; pass: string } }

export async function startSmtp(opts: SmtpOptions = {}) {
  // Loaded here, not at the top: every test file imports the kit, few of them need a mail server.
  const { SMTPServer } = await import('smtp-server');
  const mails: Mail[] = [];
  /** SMTP connections accepted so far (a sender that keeps its connection opens one for a burst). */
  const stats = { connections: 0 };
  const server = new SMTPServer({
    logger: false,
    onConnect(_session, cb) {
      stats.connections += 1;
      cb();
    },
    disabledCommands: ['STARTTLS'],
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) cb(null, { user: auth.username });
      else cb(new Error('invalid credentials'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const subject = /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(raw)?.[1]?.replace(/\r?\n[ \t]/g, ' ') ?? '';
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject, text: decodeQuotedPrintable(raw), receivedAt: Date.now(),
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, stats, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export async function startBroker() {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const server = createNetServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async close() {
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Subscribes (MQTT 3.1.1, as aedes speaks) and collects messages with their JSON payloads. */
export async function subscribe(url: string, topic: string) {
  const { connectAsync } = await import('mqtt');
  const client = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
  const messages: Array<{ topic: string; text: string; json: any; retain: boolean }> = []; // any: tests read arbitrary JSON
  client.on('message', (t, payload, packet) => {
    const text = payload.toString('utf8');
    let json: unknown = null;
    try { json = JSON.parse(text); } catch { /* ON/OFF states */ }
    messages.push({ topic: t, text, json, retain: packet.retain });
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return { messages, close: () => client.endAsync(true) };
}

export interface Call {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: any; // any: tests read arbitrary JSON
  /** Date.now() when the request arrived, before its body, for latency bounds. */
  at: number;
}

/**
 * An HTTP receiver (webhook, SMS gateway); `status` is what it answers, so a test can take it "down" with 503,
 * and `delayMs` how long it takes to answer, so a test can make it a slow gateway.
 */
export async function startReceiver(port = 0) {
  const calls: Call[] = [];
  const state = { status: 200, delayMs: 0 };
  const server = createHttpServer((req, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (state.status < 300) {
        let json: unknown = null;
        try { json = JSON.parse(body); } catch { /* form bodies */ }
        calls.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json, at });
      }
      const answer = () => res.writeHead(state.status, { 'content-type': 'application/json' }).end(state.status < 300 ? '{"ok":true}' : '{"error":"down"}');
      if (state.delayMs > 0) setTimeout(answer, state.delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    calls,
    state,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

export type Smtp = Awaited<ReturnType<typeof startSmtp>>;
export type Broker = Awaited<ReturnType<typeof startBroker>>;
export type Subscription = Awaited<ReturnType<typeof subscribe>>;
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/**
 * The peers of one describe block (or file): each one started is closed by
 * the scope's teardown, after the test that started it (or after the block
 * when started in a beforeAll). `defer` takes any other cleanup.
 */
export function usePeers() {
  const defer = useTeardown();
  const track = async <P extends { close(): Promise<unknown> }>(p: Promise<P>): Promise<P> => {
    const peer = await p;
    // A peer already gone (a test that closes it itself) must not fail the teardown.
    defer(() => peer.close().catch(() => undefined));
    return peer;
  };
  return {
    smtp: (opts: SmtpOptions = {}) => track(startSmtp(opts)),
    broker: () => track(startBroker()),
    receiver: (port = 0) => track(startReceiver(port)),
    subscribe: (url: string, topic: string) => track(subscribe(url, topic)),
    defer,
  };
}
