import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import ocppRpc from 'ocpp-rpc';
import type { AuthorizeAnswer, AuthorizeRequest } from '../events.js';
import type { TLSSocket } from 'node:tls';
import { Admissions, SUBPROTOCOLS, type ClientCertificate, type Refusal } from './admission.js';
import type { ChargerSession, OcppContext } from './context.js';
import { EDITIONS, editionOf } from './editions.js';
import { LIMITS, RateLimit, printable, scrubPayload } from './limits.js';
import { ChargerCallError, ChargerOfflineError, ChargerTimeoutError, CommandNotInProtocolError } from './send-error.js';
import { overLong, v16Validator, type Cut } from './v16/validate.js';
import { v201Validator } from './v201/validate.js';
import type { OcppMetrics } from './metrics.js';
import type { GroupWriter } from '../db/writer.js';

// ocpp-rpc is CommonJS with spread exports that ESM named imports cannot see.
const { RPCServer, createRPCError, TimeoutError, RPCError } = ocppRpc;

/** The parts of ocpp-rpc's server client used here (its bundled types do not resolve under NodeNext). */
interface RpcServerClient {
  identity: string;
  protocol?: string;
  session: unknown;
  handshake: { remoteAddress?: string };
  handle(fn: (call: { method?: string; params?: unknown }) => Promise<unknown>): void;
  call(method: string, params: unknown, opts: { callTimeoutMs: number }): Promise<unknown>;
  close(opts: { code: number; reason: string }): Promise<unknown>;
  on(event: string, fn: (e: never) => void): void;
  once(event: string, fn: (e: never) => void): void;
}

interface HandshakeInfo {
  identity: string; password: Buffer | undefined; remoteAddress: string | undefined; endpoint: string; protocols: Set<string>;
  request: IncomingMessage;
}

/** The client certificate of a wss connection, as TLS verified it (requestCert with the site CA; undefined over ws). */
function clientCertificateOf(request: IncomingMessage): ClientCertificate | undefined {
  const socket = request.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const peer = socket.getPeerCertificate();
  const presented = Boolean(peer && Object.keys(peer).length);
  const cn: unknown = presented ? peer.subject?.CN : undefined;
  return { presented, authorized: socket.authorized === true, commonName: typeof cn === 'string' ? cn : null };
}

/** How long a connected charger has to answer a ping before a newcomer with its id may replace it. */
const ALIVE_PING_MS = 3000;
/** Calls refused by the rate limit in a row before the socket is closed (1008, policy violation). */
const MAX_REFUSED_IN_ROW = 200;

export type OcppServerContext = Omit<OcppContext, 'authorize' | 'openTransactions' | 'heartbeats' | 'writer'> & { writer: GroupWriter };

/** Scale-out hooks (core/cluster); without `cluster:` there are none and none of this runs. */
export interface OcppCluster {
  /** Takes the charger's lease before its socket is accepted; the epoch fences its writes. */
  claim(chargerId: string): Promise<number>;
  /** The writer a charger's messages go through while its socket holds this epoch. */
  writerFor(chargerId: string, epoch: number): OcppContext['writer'];
  connected(chargerId: string, epoch: number): void;
  /** Its socket closed; `stored` settles once the disconnect is written. */
  closed(chargerId: string, epoch: number, stored: Promise<unknown>): void;
}

/**
 * The OCPP-J edge: accepts charger sockets on the HTTP port, checks their
 * identity and password, turns each message into storage and bus events,
 * and sends operator commands to chargers.
 */
export class OcppServer {
  readonly #rpc: InstanceType<typeof RPCServer>;
  readonly #ctx: OcppContext;
  readonly #clients = new Map<string, RpcServerClient>();
  readonly #sessions = new Map<string, ChargerSession>();
  readonly #lastSeen = new Map<string, string>();
  readonly #admissions: Admissions;
  /** Message budgets per charger id, kept across connections so that reconnecting does not refill them. */
  readonly #rates = new Map<string, RateLimit>();
  #flushTimer: NodeJS.Timeout | null = null;
  #closing = false;
  readonly #metrics: OcppMetrics | null;
  #cluster: OcppCluster | null = null;
  /** In a cluster: each socket's lease epoch and the context whose writer is fenced by it. */
  readonly #fenced = new WeakMap<ChargerSession, { epoch: number; ctx: OcppContext }>();

  /** metrics: counts and times every message of every socket (null when http.metrics is off). */
  constructor(ctx: OcppServerContext, metrics: OcppMetrics | null = null) {
    this.#metrics = metrics;
    this.#ctx = {
      ...ctx,
      openTransactions: new Map(),
      heartbeats: new Map(),
      authorize: (req) => this.#authorize(req),
    };
    this.#rpc = new RPCServer({
      protocols: [...SUBPROTOCOLS],
      strictMode: true,
      // Duck-typed: ocpp-rpc only calls .subprotocol and .validate() on it.
      strictModeValidators: [v16Validator as never, v201Validator as never],
      callTimeoutMs: ctx.config.callTimeout,
      // A dead link (power cut at a router, a charger hung below OCPP) shows as no pong: ocpp-rpc then closes it.
      pingIntervalMs: ctx.config.pingInterval,
      deferPingsOnActivity: true,
      respondWithDetailedErrors: false,
      wssOptions: { maxPayload: LIMITS.maxFrameBytes },
    });
    this.#admissions = new Admissions({ ...ctx, isAlive: (id) => this.#isAlive(id) });
    this.#rpc.auth((accept: (session: object, protocol?: string) => void, reject: (code: number, reason: string) => void, handshake: HandshakeInfo) => {
      void this.#admissions.admit({ ...handshake, clientCertificate: clientCertificateOf(handshake.request) }).then(
        // No protocol named: ocpp-rpc takes the first of SUBPROTOCOLS the charger offers.
        (result) => {
          if (!result.ok) return reject(result.code, result.reason);
          if (!this.#cluster) return accept({ approved: result.approved });
          // In a cluster the socket is only accepted once this node owns the charger.
          this.#cluster.claim(handshake.identity).then((epoch) => accept({ approved: result.approved, epoch }), (err: unknown) => {
            ctx.log.error(`could not take the lease of charger ${handshake.identity}`, { error: String(err) });
            reject(503, 'service unavailable');
          });
        },
        (err: unknown) => {
          ctx.log.error('charger authentication failed', { error: String(err) });
          reject(500, 'internal error');
        },
      );
    });
    this.#rpc.on('client', (client: unknown) => this.#onClient(client as RpcServerClient));
  }

  /** Joins a cluster (boot, before start): sockets are then leased and their writes fenced. */
  attachCluster(cluster: OcppCluster): void {
    this.#cluster = cluster;
  }

  async start(): Promise<void> {
    const open = await this.#ctx.db('transactions').whereNull('stopped_at').select('id', 'charger_id', 'connector_id');
    for (const t of open) this.#ctx.openTransactions.set(`${t.charger_id}:${t.connector_id}`, t.id as number);
    this.#flushTimer = setInterval(() => void this.#flushLastSeen(), 5000);
    this.#flushTimer.unref();
  }

  /** For the HTTP server's 'upgrade' event: only the configured path is OCPP. */
  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const path = this.#ctx.config.path.replace(/\/$/, '');
    const url = req.url ?? '';
    if (this.#closing || !url.startsWith(`${path}/`)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    void this.#rpc.handleUpgrade(req, socket, head);
  }

  #onClient(client: RpcServerClient): void {
    const { log, bus, clock } = this.#ctx;
    const id = client.identity as string;
    const session: ChargerSession = {
      id, approved: Boolean((client.session as { approved?: boolean }).approved), protocol: client.protocol ?? 'ocpp1.6',
      transactionOwnership: new Map(), truncatedFields: [],
    };
    const previous = this.#clients.get(id);
    if (previous && previous !== client) {
      // Admission found the old socket dead (no pong): a charger that reconnected before it timed out.
      void previous.close({ code: 4000, reason: 'replaced by a new connection' });
    }
    const epoch = (client.session as { epoch?: number }).epoch;
    const cluster = this.#cluster;
    const ctx = cluster && epoch !== undefined ? { ...this.#ctx, writer: cluster.writerFor(id, epoch) } : this.#ctx;
    if (cluster && epoch !== undefined) {
      this.#fenced.set(session, { epoch, ctx });
      cluster.connected(id, epoch);
    }
    this.#clients.set(id, client);
    this.#sessions.set(id, session);
    this.#metrics?.watch(client);
    const at = clock.iso();
    this.#lastSeen.set(id, at);
    const remoteAddress = client.handshake.remoteAddress ?? '';
    log.info(`charger ${id} connected from ${remoteAddress}`);
    void ctx.writer.write(async (trx) => {
      await trx('charger_messages').insert({ charger_id: id, action: 'connected', payload: JSON.stringify({ remoteAddress, protocol: session.protocol }), received_at: at });
      await trx('chargers').where({ id }).update({ protocol: session.protocol });
    }).catch((err: unknown) => log.error('could not record connect', { error: String(err) }));
    bus.emit('charger.connected', { chargerId: id, at, remoteAddress, protocol: session.protocol });

    // One charger's messages are handled one after another, as it sent them; the queue and the rate are bounded.
    let chain: Promise<unknown> = Promise.resolve();
    let queued = 0;
    const rate = this.#rateOf(id);
    client.handle(async ({ method, params }: { method?: string; params?: unknown }) => {
      if (!rate.take(clock.nowMs())) {
        if (rate.refusedInRow === MAX_REFUSED_IN_ROW) {
          log.warn(`charger ${id} keeps sending faster than ${this.#ctx.config.maxMessageRate} messages/s; closing its socket`);
          void client.close({ code: 1008, reason: 'message rate exceeded' });
        }
        throw createRPCError('GenericError', `more than ${this.#ctx.config.maxMessageRate} messages per second; slow down`);
      }
      if (queued >= LIMITS.maxQueuedCalls) throw createRPCError('GenericError', `more than ${LIMITS.maxQueuedCalls} calls waiting; send one at a time`);
      queued++;
      const action = String(method);
      const run = chain.then(() => this.#dispatch(ctx, session, action, params)).finally(() => { queued--; });
      chain = run.catch(() => undefined);
      return run as Promise<Record<string, unknown>>;
    });
    client.on('strictValidationFailure', (e: { error?: Error; messageId?: string; method?: string; isCall?: boolean }) => {
      log.warn(`invalid ${printable(e.method ?? 'message', 40)} from ${id}: ${printable(e.error?.message ?? 'schema violation', 200)}`);
    });
    client.on('badMessage', (e: { error?: Error }) => {
      log.warn(`malformed frame from ${id}: ${printable(e.error?.message ?? 'unreadable', 200)}`);
    });
    client.once('close', ({ code, reason }: { code: number; reason: string | Buffer }) => {
      if (this.#clients.get(id) !== client) return;
      this.#clients.delete(id);
      this.#sessions.delete(id);
      const closedAt = clock.iso();
      const why = String(reason ?? '');
      log.info(`charger ${id} disconnected (${code}${why ? ` ${why}` : ''})`);
      const stored = ctx.writer.write(async (trx) => {
        await trx('charger_messages').insert({ charger_id: id, action: 'disconnected', payload: JSON.stringify({ code, reason: why }), received_at: closedAt });
        const hb = this.#ctx.heartbeats.get(id);
        this.#ctx.heartbeats.delete(id);
        await trx('chargers').where({ id }).update({ last_seen_at: this.#lastSeen.get(id) ?? closedAt, ...(hb ? { last_heartbeat_at: hb } : {}) });
      }).catch((err: unknown) => log.error('could not record disconnect', { error: String(err) }));
      if (cluster && epoch !== undefined) cluster.closed(id, epoch, stored);
      bus.emit('charger.disconnected', { chargerId: id, at: closedAt, code, reason: why });
    });
  }

  #rateOf(chargerId: string): RateLimit {
    let rate = this.#rates.get(chargerId);
    if (!rate) {
      if (this.#rates.size >= 20_000) this.#rates.clear();
      const perSecond = this.#ctx.config.maxMessageRate;
      rate = new RateLimit(perSecond, perSecond * 5, this.#ctx.clock.nowMs());
      this.#rates.set(chargerId, rate);
    }
    rate.refusedInRow = 0;
    return rate;
  }

  /** ctx: the server's, or in a cluster this socket's (its writer fenced by the lease). */
  async #dispatch(ctx: OcppContext, cp: ChargerSession, action: string, params: unknown): Promise<unknown> {
    const edition = editionOf(cp.protocol);
    const handler = edition.handlers[action];
    if (!handler) throw createRPCError('NotImplemented', `${action} is not implemented`);
    if (!cp.approved && !edition.allowedWhilePending.has(action)) {
      throw createRPCError('SecurityError', `charger ${cp.id} is not approved yet`);
    }
    cp.truncatedFields = [];
    const long = params && typeof params === 'object' ? overLong.get(params) : undefined;
    if (long) {
      overLong.delete(params as object);
      params = await this.#overLong(cp, action, long);
    }
    scrubPayload(params);
    edition.checkBounds(action, params);
    const at = this.#ctx.clock.iso();
    this.#lastSeen.set(cp.id, at);
    const ts = (params as { timestamp?: unknown }).timestamp;
    this.#ctx.bus.emit('charger.seen', { chargerId: cp.id, at, action, ...(typeof ts === 'string' ? { chargerTime: ts } : {}) });
    try {
      return await handler(ctx, cp, params as never);
    } catch (err) {
      if (err instanceof RPCError) throw err;
      this.#ctx.log.error(`${action} from ${cp.id} failed`, { error: String(err), stack: (err as Error).stack });
      throw createRPCError('InternalError', 'the central system could not process this message');
    }
  }

  /** A request with too-long strings: refused with PropertyConstraintViolation, or cut for a lenient charger (reported). */
  async #overLong(cp: ChargerSession, action: string, long: { params: Record<string, unknown>; cuts: Cut[] }): Promise<Record<string, unknown>> {
    const lenient = this.#ctx.config.lenient;
    let ok = lenient.everyCharger;
    if (!ok && lenient.models.length) {
      // The boot that names the model may be the very message that is too long.
      const named = action === 'BootNotification'
        ? { vendor: long.params.chargePointVendor, model: long.params.chargePointModel }
        : await this.#ctx.db('chargers').where({ id: cp.id }).first('vendor', 'model') as { vendor?: unknown; model?: unknown } | undefined;
      const vendor = String(named?.vendor ?? '').toLowerCase();
      const model = String(named?.model ?? '').toLowerCase();
      ok = lenient.models.some((m) => m.vendor.toLowerCase() === vendor && (m.model === undefined || m.model.toLowerCase() === model));
    }
    const said = long.cuts.map((c) => `${c.field} is longer than ${c.maxLength} characters (${c.length})`).join('; ');
    if (!ok) throw createRPCError('PropertyConstraintViolation', said);
    this.#ctx.log.warn(`${printable(action, 40)} from ${cp.id}: ${printable(said, 300)}; stored cut (lenient mode)`);
    cp.truncatedFields = long.cuts.map((c) => c.field);
    const at = this.#ctx.clock.iso();
    for (const c of long.cuts) this.#ctx.bus.emit('field.truncated', { chargerId: cp.id, at, action, ...c });
    return long.params;
  }

  /** The answer a charger would get for this idTag: the authorize decision, narrowed by restrict, or freeVend. */
  authorize(req: AuthorizeRequest): Promise<AuthorizeAnswer> {
    return this.#authorize(req);
  }

  async #authorize(req: AuthorizeRequest): Promise<AuthorizeAnswer> {
    const decided = await this.#ctx.bus.ask('authorize', req);
    let answer: AuthorizeAnswer = decided ?? { status: this.#ctx.config.freeVend ? 'Accepted' : 'Invalid', userId: null };
    if (answer.status === 'Accepted' && req.context !== 'StopTransaction') {
      answer = (await this.#ctx.bus.ask('restrict', { ...req, answer })) ?? answer;
    }
    const { userId, known, ...idTagInfo } = answer;
    const isKnown = decided !== undefined && known !== false;
    if (req.context !== 'RemoteStart') {
      this.#ctx.bus.emit('token.presented', {
        chargerId: req.chargerId, at: this.#ctx.clock.iso(), idTag: req.idTag, connectorId: req.connectorId,
        context: req.context, idTagInfo, known: isKnown,
      });
    }
    // Kept for 2.0.1, which answers a card the deciding plugin never saw Unknown; 1.6 leaves it out of its idTagInfo.
    return { ...idTagInfo, userId: userId ?? null, ...(known === false ? { known } : {}) };
  }

  async #flushLastSeen(): Promise<void> {
    if (this.#lastSeen.size === 0) return;
    const entries = [...this.#lastSeen.entries()].filter(([id]) => this.#clients.has(id));
    if (!entries.length) return;
    const heartbeats = this.#ctx.heartbeats;
    const store = (trx: import('knex').Knex.Transaction, id: string, at: string) => {
      const hb = heartbeats.get(id);
      return trx('chargers').where({ id }).update(hb ? { last_seen_at: at, last_heartbeat_at: hb } : { last_seen_at: at });
    };
    if (this.#cluster) {
      // Each charger through its own fenced writer: one whose lease moved must not fail the others.
      await Promise.all(entries.map(([id, at]) => {
        const session = this.#sessions.get(id);
        const writer = (session && this.#fenced.get(session)?.ctx.writer) ?? this.#ctx.writer;
        return writer.write((trx) => store(trx, id, at)).catch(() => undefined);
      }));
      return;
    }
    await this.#ctx.writer.write(async (trx) => {
      for (const [id, at] of entries) await store(trx, id, at);
    }).catch((err: unknown) => this.#ctx.log.error('could not store last-seen times', { error: String(err) }));
  }

  isOnline(chargerId: string): boolean {
    return this.#clients.has(chargerId);
  }

  onlineIds(): string[] {
    return [...this.#clients.keys()];
  }

  /** Last message time of a connected charger (kept in memory, stored every few seconds). */
  lastSeen(chargerId: string): string | undefined {
    return this.#lastSeen.get(chargerId);
  }

  /** The last connection refused under this charger's id (wrong password, someone else as it), since the start. */
  lastRefusal(chargerId: string): Refusal | undefined {
    return this.#admissions.lastRefusal(chargerId);
  }

  /** Last heartbeat of a connected charger (kept in memory, stored every few seconds). */
  lastHeartbeat(chargerId: string): string | undefined {
    return this.#ctx.heartbeats.get(chargerId);
  }

  /** Marks a connected charger approved, so its next boot is Accepted. */
  setApproved(chargerId: string, approved: boolean): void {
    const s = this.#sessions.get(chargerId);
    if (s) s.approved = approved;
  }

  /** Drops a charger's socket (after its password changed or it was deleted). */
  async disconnect(chargerId: string, reason: string): Promise<void> {
    await this.#clients.get(chargerId)?.close({ code: 4001, reason });
  }

  /** In a cluster: the charger's lease moved to another node; its socket here closes unless it is a newer one. */
  async leaseLost(chargerId: string, epoch: number): Promise<void> {
    const session = this.#sessions.get(chargerId);
    const held = session && this.#fenced.get(session)?.epoch;
    if (held === undefined || held > epoch) return;
    this.#ctx.log.info(`charger ${chargerId} is served by another node now; closing its socket here`);
    await this.#clients.get(chargerId)?.close({ code: 4002, reason: 'connected to another node' });
  }

  /** Whether the charger's open socket answers a WebSocket ping within a few seconds. */
  async #isAlive(chargerId: string): Promise<boolean> {
    const client = this.#clients.get(chargerId);
    // ocpp-rpc 2.2.1 keeps the ws socket in `_ws` and offers no ping with a reply; the version is pinned.
    const ws = (client as unknown as { _ws?: import('ws').WebSocket } | undefined)?._ws;
    if (!ws || ws.readyState !== ws.OPEN) return false;
    return new Promise<boolean>((resolve) => {
      const done = (alive: boolean) => {
        clearTimeout(timer);
        ws.off('pong', onPong);
        ws.off('close', onClose);
        resolve(alive);
      };
      const onPong = () => done(true);
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), ALIVE_PING_MS);
      ws.on('pong', onPong);
      ws.on('close', onClose);
      try { ws.ping(); } catch { done(false); }
    });
  }

  /** The subprotocol of a connected charger. */
  protocolOf(chargerId: string): string | undefined {
    return this.#sessions.get(chargerId)?.protocol;
  }

  /** The version a charger speaks: its connected socket's, else the one it last used, else 1.6. */
  async protocolFor(chargerId: string): Promise<string> {
    const stored = this.#sessions.get(chargerId)?.protocol
      ?? (await this.#ctx.db('chargers').where({ id: chargerId }).first('protocol') as { protocol?: string | null } | undefined)?.protocol;
    return editionOf(stored).protocol;
  }

  /** Every command of every version the edge speaks (each charger takes its own version's). */
  static commands(): string[] {
    return [...new Set(EDITIONS.flatMap((e) => Object.keys(e.commands)))];
  }

  /** Checks a payload against one version's schema (1.6 by default); throws CommandPayloadError naming each bad field. */
  static validateCommand(action: string, payload: unknown, protocol = 'ocpp1.6'): void {
    editionOf(protocol).validateCommand(action, payload);
  }

  /**
   * Checks a command for this charger's OCPP version (the connected socket's, else the one it last used)
   * and its payload against that version's schema. Throws CommandNotInProtocolError or CommandPayloadError.
   */
  async checkCommand(chargerId: string, action: string, payload: unknown): Promise<void> {
    const edition = editionOf(await this.protocolFor(chargerId));
    if (!(action in edition.commands)) {
      const other = EDITIONS.find((e) => action in e.commands);
      throw new CommandNotInProtocolError(action, edition.protocol, other
        ? `${action} is an ${other.label} command; ${chargerId} speaks ${edition.label}`
        : `${action} is not a command of ${edition.label}, which ${chargerId} speaks`);
    }
    edition.validateCommand(action, payload);
  }

  /** Sends an OCPP call to a charger and returns its reply. */
  async send(chargerId: string, action: string, payload: unknown, timeoutMs?: number): Promise<unknown> {
    await this.checkCommand(chargerId, action, payload);
    const client = this.#clients.get(chargerId);
    if (!client) throw new ChargerOfflineError(`charger ${chargerId} is offline`);
    try {
      return scrubPayload(await client.call(action, payload, { callTimeoutMs: timeoutMs ?? this.#ctx.config.callTimeout }), false);
    } catch (err) {
      if (err instanceof TimeoutError) throw new ChargerTimeoutError(`charger ${chargerId} did not answer ${action} in time`);
      if (err instanceof RPCError) throw new ChargerCallError(err.rpcErrorCode, err.message);
      if (!this.#clients.has(chargerId)) throw new ChargerOfflineError(`charger ${chargerId} went offline during ${action}`);
      throw err;
    }
  }

  /** Closes every charger socket with 1001 (going away) and stops accepting new ones. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#admissions.close();
    if (this.#flushTimer) clearInterval(this.#flushTimer);
    await this.#flushLastSeen();
    await Promise.allSettled([...this.#clients.values()].map((c) => c.close({ code: 1001, reason: 'server shutting down' })));
    await this.#rpc.close({ code: 1001, reason: 'server shutting down' });
  }
}
