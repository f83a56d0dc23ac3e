import type { Accounts } from './accounts.js';
import type { CertificateService } from './certificates/service.js';
import type { ChargerCommands } from './ocpp/commands/index.js';
import type { AuditLog } from './audit.js';
import type { Clock } from './clock.js';
import type { GroupWriter } from './db/writer.js';
import type { ChargerHistory } from './history.js';
import type { AuthorizeAnswer, AuthorizeRequest } from './events.js';
import type { MetricsRegistry } from './metrics.js';
import type { Readings } from './readings.js';
import type { SampledUnits } from './ocpp/sampled-units.js';
import type { Transactions } from './transactions.js';

/** A connected or known charger, as the API lists it. */
export interface ChargerView {
  id: string;
  name: string | null;
  online: boolean;
  approved: boolean;
  vendor: string | null;
  model: string | null;
  firmwareVersion: string | null;
  /** The OCPP-J subprotocol it speaks ("ocpp1.6", "ocpp2.0.1"); null before it ever connected. */
  protocol: string | null;
  lastSeenAt: string | null;
  connectors: Array<Omit<ConnectorState, 'chargerId'>>;
}

/** A connector's latest status, as its last StatusNotification said. */
export interface ConnectorState {
  chargerId: string;
  connectorId: number;
  status: string;
  errorCode: string;
  info: string | null;
  vendorErrorCode: string | null;
  /** When the charger says the status began (its clock). */
  since: string;
}

/** A stored charger without its live state: one query for all of them. */
export interface ChargerRecord {
  id: string;
  name: string | null;
  /** Pending chargers are not part of the network yet. */
  approved: boolean;
  registeredAt: string;
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
  /** Every stored charger, by id, without connectors or live state. */
  records(): Promise<ChargerRecord[]>;
  record(chargerId: string): Promise<ChargerRecord | null>;
  /** Latest connector statuses, of one charger or in one status (default: all). */
  connectors(filter?: { chargerId?: string; status?: string }): Promise<ConnectorState[]>;
  /**
   * Sends an OCPP call and resolves with the charger's reply. Rejects with
   * a SendError (core/ocpp/send-error.ts: sendErrorOf(err)?.kind says why).
   */
  send(chargerId: string, action: string, payload: unknown, opts: SendOptions): Promise<unknown>;
  /**
   * The same calls by what they do (reset, remote start, ...), in the version the charger speaks:
   * plugins use these, so that none of them names an OCPP version. Rejects like send().
   */
  readonly commands: ChargerCommands;
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
  /** Charging sessions: by id, running ones, of an account, of a connector, of a period. */
  readonly transactions: Transactions;
  /** What chargers said over time: statuses, connections, boots. */
  readonly history: ChargerHistory;
  /** Unit corrections for a charger's sampled values (a model known to send kWh without saying so). */
  readonly sampledUnits: SampledUnits;
  /** Prometheus metrics served at GET /metrics: a plugin registers its own, read in collect() at scrape time. */
  readonly metrics: MetricsRegistry;
  /** Certificates the site CA issued to chargers, and the server's own: for expiry checks. */
  readonly certificates: CertificateService;
}
