import type { Knex } from 'knex';
import type { Bus } from './bus.js';
import type { Clock } from './clock.js';
import type { AuthorizeAnswer, AuthorizeRequest } from './events.js';
import type { AuditLog } from './audit.js';
import { redactCommand } from './redact.js';
import { ChargerCallError, ChargerOfflineError, ChargerTimeoutError, CommandPayloadError, OcppServer } from './ocpp/server.js';
import type { ChargerService, ChargerView, SendOptions } from './services.js';
import { errorMessage } from './errors.js';

/** Thrown by send(): a RemoteStartTransaction names a card the site refuses here; nothing was sent. */
export class CardRefusedError extends Error {
  constructor(readonly idTag: string, readonly status: string, chargerId: string) {
    super(`card ${idTag} is not accepted at ${chargerId} (${status}); RemoteStartTransaction was not sent`);
  }
}

type Row = Record<string, unknown>;

const view = (r: Row, connectors: Row[], ocpp: OcppServer): ChargerView => ({
  id: r.id as string,
  name: (r.name as string) ?? null,
  online: ocpp.isOnline(r.id as string),
  approved: Boolean(r.approved),
  vendor: (r.vendor as string) ?? null,
  model: (r.model as string) ?? null,
  firmwareVersion: (r.firmware_version as string) ?? null,
  lastSeenAt: ocpp.lastSeen(r.id as string) ?? (r.last_seen_at as string) ?? null,
  connectors: connectors.map((c) => ({
    connectorId: c.connector_id as number, status: c.status as string, errorCode: c.error_code as string,
    info: (c.info as string) ?? null, vendorErrorCode: (c.vendor_error_code as string) ?? null, since: c.status_at as string,
  })),
});

/** Charger lookups and remote commands, shared by the core's routes and the plugins. */
export class Chargers implements ChargerService {
  #db: Knex;
  #ocpp: OcppServer;
  #bus: Bus;
  #audit: AuditLog;
  #clock: Clock;

  constructor(db: Knex, ocpp: OcppServer, bus: Bus, audit: AuditLog, clock: Clock) {
    this.#clock = clock;
    this.#db = db;
    this.#ocpp = ocpp;
    this.#bus = bus;
    this.#audit = audit;
  }

  isOnline(id: string): boolean {
    return this.#ocpp.isOnline(id);
  }

  onlineIds(): string[] {
    return this.#ocpp.onlineIds();
  }

  async list(): Promise<ChargerView[]> {
    const [rows, connectors] = await Promise.all([
      this.#db('chargers').orderBy('id'),
      this.#db('connectors').orderBy(['charger_id', 'connector_id']),
    ]);
    const byCharger = new Map<string, Row[]>();
    for (const c of connectors as Row[]) {
      const list = byCharger.get(c.charger_id as string) ?? [];
      list.push(c);
      byCharger.set(c.charger_id as string, list);
    }
    return (rows as Row[]).map((r) => view(r, byCharger.get(r.id as string) ?? [], this.#ocpp));
  }

  async get(id: string): Promise<ChargerView | null> {
    const row = await this.#db('chargers').where({ id }).first();
    if (!row) return null;
    const connectors = await this.#db('connectors').where({ charger_id: id }).orderBy('connector_id');
    return view(row as Row, connectors as Row[], this.#ocpp);
  }

  async row(id: string): Promise<Row | undefined> {
    return this.#db('chargers').where({ id }).first();
  }

  authorize(req: AuthorizeRequest): Promise<AuthorizeAnswer> {
    return this.#ocpp.authorize(req);
  }

  async send(chargerId: string, action: string, payload: unknown, opts: SendOptions): Promise<unknown> {
    const at = this.#clock.iso();
    try {
      // A remote start is checked like a card at the reader, whoever asks: the charger would start a session for it otherwise.
      if (action === 'RemoteStartTransaction') await this.#checkRemoteStart(chargerId, payload);
      const response = await this.#ocpp.send(chargerId, action, payload, opts.timeoutMs);
      const shown = { request: redactCommand(payload), response: redactCommand(response) };
      this.#bus.emit('command.sent', { chargerId, at, action, ...shown, actor: opts.actor });
      if (!opts.actor.startsWith('plugin:')) await this.#audit.record(opts.actor, `command.${action}`, chargerId, shown);
      return response;
    } catch (err) {
      const error = errorMessage(err);
      const errorKind = err instanceof ChargerOfflineError ? 'offline' : err instanceof ChargerTimeoutError ? 'timeout'
        : err instanceof ChargerCallError ? 'callerror' : err instanceof CommandPayloadError ? 'invalid'
          : err instanceof CardRefusedError ? 'refused' : undefined;
      const request = redactCommand(payload);
      this.#bus.emit('command.sent', { chargerId, at, action, request, error, ...(errorKind ? { errorKind } : {}), actor: opts.actor });
      if (!opts.actor.startsWith('plugin:')) await this.#audit.record(opts.actor, `command.${action}`, chargerId, { request, error });
      throw err;
    }
  }

  async #checkRemoteStart(chargerId: string, payload: unknown): Promise<void> {
    // A payload OCPP refuses is answered field by field first (400), before any card lookup.
    OcppServer.validateCommand('RemoteStartTransaction', payload);
    const { idTag, connectorId } = payload as { idTag: string; connectorId?: number };
    const answer = await this.#ocpp.authorize({ chargerId, connectorId: connectorId ?? null, idTag, context: 'RemoteStart' });
    if (answer.status !== 'Accepted') throw new CardRefusedError(idTag, answer.status, chargerId);
  }
}
