import type { Accounts } from './accounts.js';
import type { AuditLog } from './audit.js';
import type { Clock } from './clock.js';
import type { GroupWriter } from './db/writer.js';
import type { AuthorizeAnswer, AuthorizeRequest } from './events.js';
import type { Readings } from './readings.js';

/** A connected or known charger, as the API lists it. */
export interface ChargerView {
  id: string;
  name: string | null;
  online: boolean;
  approved: boolean;
  vendor: string | null;
  model: string | null;
  firmwareVersion: string | null;
  lastSeenAt: string | null;
  connectors: Array<{ connectorId: number; status: string; errorCode: string; info: string | null; vendorErrorCode: string | null; since: string }>;
}

export interface SendOptions {
  /** Who asked: a username (audited) or "plugin:<name>" for automatic calls (not audited). */
  actor: string;
  timeoutMs?: number;
}

export interface ChargerService {
  isOnline(chargerId: string): boolean;
  onlineIds(): string[];
  list(): Promise<ChargerView[]>;
  get(chargerId: string): Promise<ChargerView | null>;
  /**
   * Sends an OCPP call and resolves with the charger's reply. Rejects with
   * ChargerOfflineError, ChargerTimeoutError, ChargerCallError or
   * CommandPayloadError (from core/ocpp/server.ts).
   */
  send(chargerId: string, action: string, payload: unknown, opts: SendOptions): Promise<unknown>;
  /** What a charger would answer this idTag now (authorize, then restrict, else ocpp.freeVend); e.g. before a remote start. */
  authorize(req: AuthorizeRequest): Promise<AuthorizeAnswer>;
}

/** What the core offers every plugin through ctx.core. */
export interface CoreServices {
  readonly site: { name: string; timezone: string };
  /** Where the database, uploads and backups live. */
  readonly dataDir: string;
  /** Base URL for links sent out of the box (e-mails, push). */
  readonly publicUrl: string;
  readonly version: string;
  readonly clock: Clock;
  readonly accounts: Accounts;
  readonly audit: AuditLog;
  /** Group-commit writer: `await writer.write(trx => ...)` resolves once durable. */
  readonly writer: GroupWriter;
  readonly chargers: ChargerService;
  /** Readings of a session, always from its own charger and connector. */
  readonly readings: Readings;
}
