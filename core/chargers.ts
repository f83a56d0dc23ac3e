import type { Knex } from 'knex';
import type { Bus } from './bus.js';
import type { Clock } from './clock.js';
import type { AuthorizeAnswer, AuthorizeRequest } from './events.js';
import type { AuditLog } from './audit.js';
import { redactCommand } from './redact.js';
import type { OcppServer } from './ocpp/server.js';
import { CardRefusedError, sendErrorOf } from './ocpp/send-error.js';
import type { ChargerRecord, ChargerService, ChargerView, ConnectorState, SendOptions } from './services.js';
import { errorMessage } from './errors.js';
import { type ChargerCommands, createCommands, type Protocol } from './ocpp/commands/index.js';
import { transactionRefOf } from './ocpp/v201/transaction-ref.js';
import type { ClusterRouting } from './cluster/index.js';

/** A row of the core's `chargers` table. SQLite returns `approved` as 0/1. */
export interface ChargerRow {
  id: string;
  name: string | null;
  approved: boolean | number;
  vendor: string | null;
  model: string | null;
  serial_number: string | null;
  firmware_version: string | null;
  iccid: string | null;
  imsi: string | null;
  meter_type: string | null;
  meter_serial_number: string | null;
  password_hash: string | null;
  protocol: string | null;
  boot_status: string | null;
  registered_at: string;
  last_seen_at: string | null;
  last_boot_at: string | null;
  last_heartbeat_at: string | null;
}

/** A row of the core's `connectors` table: each connector's latest StatusNotification. */
export interface ConnectorRow {
  charger_id: string;
  connector_id: number;
  status: string;
  error_code: string;
  info: string | null;
  vendor_id: string | null;
  vendor_error_code: string | null;
  status_at: string;
}

export function toConnectorState(c: ConnectorRow): ConnectorState {
  return {
    chargerId: c.charger_id, connectorId: Number(c.connector_id), status: c.status, errorCode: c.error_code,
    info: c.info ?? null, vendorErrorCode: c.vendor_error_code ?? null, since: c.status_at,
  };
}

const RECORD = ['id', 'name', 'approved', 'registered_at'] as const;
const toRecord = (r: Pick<ChargerRow, (typeof RECORD)[number]>): ChargerRecord => ({
  id: r.id, name: r.name ?? null, approved: Boolean(r.approved), registeredAt: r.registered_at,
});

const view = (r: ChargerRow, connectors: ConnectorRow[], ocpp: OcppServer, online: boolean): ChargerView => ({
  id: r.id,
  name: r.name ?? null,
  online,
  approved: Boolean(r.approved),
  vendor: r.vendor ?? null,
  model: r.model ?? null,
  firmwareVersion: r.firmware_version ?? null,
  protocol: ocpp.protocolOf(r.id) ?? r.protocol ?? null,
  lastSeenAt: ocpp.lastSeen(r.id) ?? r.last_seen_at ?? null,
  connectors: connectors.map((c) => {
    const { chargerId: _, ...state } = toConnectorState(c);
    return state;
  }),
});

/** Charger lookups and remote commands, shared by the core's routes and the plugins. */
export class Chargers implements ChargerService {
  #db: Knex;
  #ocpp: OcppServer;
  #bus: Bus;
  #audit: AuditLog;
  #clock: Clock;
  /** Set in a cluster: chargers connected to other nodes, and commands sent through them. */
  #cluster: ClusterRouting | null = null;
  readonly commands: ChargerCommands;

  constructor(db: Knex, ocpp: OcppServer, bus: Bus, audit: AuditLog, clock: Clock) {
    this.commands = createCommands({
      protocolOf: async (id) => await ocpp.protocolFor(id) as Protocol,
      send: (id, action, payload, opts) => this.send(id, action, payload, opts),
      openSession: async (id, sessionId) => {
        const row = await db('transactions as t').leftJoin('ocpp201_transactions as m', 'm.transaction_id', 't.id')
          .where({ 't.id': sessionId, 't.charger_id': id }).whereNull('t.stopped_at').first('m.transaction_ref') as { transaction_ref: string | null } | undefined;
        return row ? { chargerTransactionId: row.transaction_ref ?? null } : null;
      },
      transactionRef: (id, transactionId) => transactionRefOf(db, id, transactionId),
    });
    this.#clock = clock;
    this.#db = db;
    this.#ocpp = ocpp;
    this.#bus = bus;
    this.#audit = audit;
  }

  /** Joins a cluster (boot): the lists and commands then span every node. */
  attachCluster(cluster: ClusterRouting): void {
    this.#cluster = cluster;
  }

  isOnline(id: string): boolean {
    return this.#ocpp.isOnline(id) || (this.#cluster?.isOnline(id) ?? false);
  }

  onlineIds(): string[] {
    const here = this.#ocpp.onlineIds();
    return this.#cluster ? [...new Set([...here, ...this.#cluster.onlineIds()])] : here;
  }

  async list(): Promise<ChargerView[]> {
    const [rows, connectors] = await Promise.all([
      this.#db<ChargerRow>('chargers').orderBy('id'),
      this.#db<ConnectorRow>('connectors').orderBy(['charger_id', 'connector_id']),
    ]);
    const byCharger = new Map<string, ConnectorRow[]>();
    for (const c of connectors) {
      const list = byCharger.get(c.charger_id) ?? [];
      list.push(c);
      byCharger.set(c.charger_id, list);
    }
    return rows.map((r) => view(r, byCharger.get(r.id) ?? [], this.#ocpp, this.isOnline(r.id)));
  }

  async get(id: string): Promise<ChargerView | null> {
    const row = await this.#db<ChargerRow>('chargers').where({ id }).first();
    if (!row) return null;
    const connectors = await this.#db<ConnectorRow>('connectors').where({ charger_id: id }).orderBy('connector_id');
    return view(row, connectors, this.#ocpp, this.isOnline(row.id));
  }

  async records(): Promise<ChargerRecord[]> {
    return (await this.#db<ChargerRow>('chargers').orderBy('id').select(...RECORD)).map(toRecord);
  }

  async record(id: string): Promise<ChargerRecord | null> {
    const row = await this.#db<ChargerRow>('chargers').where({ id }).first(...RECORD);
    return row ? toRecord(row) : null;
  }

  async connectors(filter: { chargerId?: string; status?: string } = {}): Promise<ConnectorState[]> {
    const q = this.#db<ConnectorRow>('connectors');
    if (filter.chargerId !== undefined) q.where({ charger_id: filter.chargerId });
    if (filter.status !== undefined) q.where({ status: filter.status });
    return (await q).map(toConnectorState);
  }

  /** The whole row, for the core's own charger page. */
  async row(id: string): Promise<ChargerRow | undefined> {
    return this.#db<ChargerRow>('chargers').where({ id }).first();
  }

  authorize(req: AuthorizeRequest): Promise<AuthorizeAnswer> {
    return this.#ocpp.authorize(req);
  }

  async send(chargerId: string, action: string, payload: unknown, opts: SendOptions): Promise<unknown> {
    const at = this.#clock.iso();
    try {
      // A remote start is checked like a card at the reader, whoever asks: the charger would start a session for it otherwise.
      if (action === 'RemoteStartTransaction' || action === 'RequestStartTransaction') await this.#checkRemoteStart(chargerId, action, payload);
      const response = await this.#deliver(chargerId, action, payload, opts.timeoutMs);
      const shown = { request: redactCommand(payload), response: redactCommand(response) };
      this.#bus.emit('command.sent', { chargerId, at, action, ...shown, actor: opts.actor });
      if (!opts.actor.startsWith('plugin:')) await this.#audit.record(opts.actor, `command.${action}`, chargerId, shown);
      return response;
    } catch (err) {
      const error = errorMessage(err);
      const errorKind = sendErrorOf(err)?.kind;
      const request = redactCommand(payload);
      this.#bus.emit('command.sent', { chargerId, at, action, request, error, ...(errorKind ? { errorKind } : {}), actor: opts.actor });
      if (!opts.actor.startsWith('plugin:')) await this.#audit.record(opts.actor, `command.${action}`, chargerId, { request, error });
      throw err;
    }
  }

  /** Sends on this node's socket, or in a cluster through the node the charger is connected to. */
  async #deliver(chargerId: string, action: string, payload: unknown, timeoutMs: number | undefined): Promise<unknown> {
    const node = this.#cluster && !this.#ocpp.isOnline(chargerId) ? await this.#cluster.ownerOf(chargerId) : null;
    if (!node) return this.#ocpp.send(chargerId, action, payload, timeoutMs);
    // A payload OCPP refuses is answered here, as for a local charger.
    await this.#ocpp.checkCommand(chargerId, action, payload);
    return this.#cluster!.sendVia(node, { chargerId, action, payload, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  }

  async #checkRemoteStart(chargerId: string, action: string, payload: unknown): Promise<void> {
    // A payload OCPP refuses (or an action of the other version) is answered first, before any card lookup.
    await this.#ocpp.checkCommand(chargerId, action, payload);
    // OCPP 1.6 names the card idTag; 2.0.1 an idToken on an EVSE.
    const p = payload as { idTag?: string; connectorId?: number; idToken?: { idToken: string }; evseId?: number };
    const idTag = p.idTag ?? p.idToken!.idToken;
    const answer = await this.#ocpp.authorize({ chargerId, connectorId: p.connectorId ?? p.evseId ?? null, idTag, context: 'RemoteStart' });
    if (answer.status !== 'Accepted') throw new CardRefusedError(idTag, answer.status, chargerId, action);
  }
}
