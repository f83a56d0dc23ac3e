/** Every event on the bus and its payload. Times are ISO 8601 strings; energy in Wh, power in W. */

import type { SendErrorKind } from './ocpp/send-error.js';

export type ChargePointStatus =
  | 'Available' | 'Preparing' | 'Charging' | 'SuspendedEVSE' | 'SuspendedEV'
  | 'Finishing' | 'Reserved' | 'Unavailable' | 'Faulted';

export type Severity = 'info' | 'warning' | 'critical';

export type AuthorizationStatus = 'Accepted' | 'Blocked' | 'Expired' | 'Invalid' | 'ConcurrentTx';

export interface IdTagInfo {
  status: AuthorizationStatus;
  /** ISO time after which the tag is no longer valid. */
  expiryDate?: string;
  parentIdTag?: string;
}

export interface ChargerRef { chargerId: string; at: string }

export interface MeterSample {
  /** 'ocpp' = the charger's own meter via MeterValues; 'modbus' = a site meter. */
  source: 'ocpp' | 'modbus';
  /** Modbus meter id from the site config, when source = modbus. */
  meterId?: string;
  chargerId?: string;
  connectorId?: number;
  transactionId?: number;
  /** When the value was measured (charger or meter clock). */
  at: string;
  powerW?: number;
  energyImportWh?: number;
  energyExportWh?: number;
  voltageV?: number[];
  currentA?: number[];
  frequencyHz?: number;
  powerFactor?: number;
  socPct?: number;
}

export interface Finding {
  id: number;
  /** Stable id of the check that raised it, e.g. "connector-fault". */
  check: string;
  chargerId: string | null;
  connectorId: number | null;
  severity: Severity;
  message: string;
  /** What an operator should do about it. */
  action?: string;
  /** diagnostics: the likely cause in words (also part of message). */
  cause?: string;
  state: 'active' | 'cleared';
  since: string;
  clearedAt: string | null;
}

export interface Alert {
  id: number;
  severity: Severity;
  kind: string;
  chargerId: string | null;
  message: string;
  state: 'open' | 'acknowledged' | 'resolved';
  raisedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
}

export interface EventMap {
  'charger.connected': ChargerRef & { remoteAddress: string; protocol: string };
  'charger.disconnected': ChargerRef & { code: number; reason: string };
  /** An operator removed the charger (its history stays); plugins drop what they keep for it. */
  'charger.deleted': ChargerRef & { by: string };
  /** A charger refused at the WebSocket upgrade (unknown in reject mode, wrong password). */
  'charger.rejected': ChargerRef & { reason: string; remoteAddress: string };
  /** The site CA signed a certificate for a charger (use: its TLS client certificate, or v2g towards the car). */
  'certificate.issued': ChargerRef & { serial: string; use: 'charger' | 'v2g'; notAfter: string };
  /** A charger asked for a certificate in another charger's or organisation's name: refused. */
  'certificate.rejected': ChargerRef & { reason: string; use: 'charger' | 'v2g' };
  /**
   * Connections refused for ids the site does not know (or malformed ids), summed up: the first at once,
   * then once per window with the window's count; count 0 means the window passed quietly.
   */
  'chargers.refused': { at: string; since: string; count: number; addresses: string[]; ids: string[]; reason: string };
  'charger.registered': ChargerRef & { approved: boolean };
  'charger.approved': ChargerRef;
  'charger.booted': ChargerRef & {
    vendor: string; model: string; serialNumber: string | null; firmwareVersion: string | null;
    status: 'Accepted' | 'Pending' | 'Rejected';
    /** Fields of this boot that lenient mode cut (ocpp.lenient); empty when it was within OCPP's limits. */
    truncatedFields?: string[];
  };
  /** Any message received from a charger; chargerTime is the charger's own timestamp when it sent one. */
  'charger.seen': ChargerRef & { action: string; chargerTime?: string };
  'charger.heartbeat': ChargerRef;
  /**
   * An OCPP 2.0.1 charger's device model changed: a report was asked for, came in part by part, finished or was refused
   * (requestId its GetBaseReport), or a get/set answer was stored (state updated, requestId null).
   */
  'charger.deviceModel': ChargerRef & {
    requestId: number | null;
    state: 'requested' | 'receiving' | 'finished' | 'refused' | 'updated';
    /** Report parts received so far. */
    parts: number;
    /** Attributes the report wrote so far. */
    variables: number;
  };
  'connector.status': ChargerRef & {
    connectorId: number; status: ChargePointStatus; errorCode: string;
    info: string | null; vendorId: string | null; vendorErrorCode: string | null;
    /** The charger's timestamp of the status change, or receive time if it sent none. */
    chargerTime: string;
  };
  'session.started': ChargerRef & {
    transactionId: number; connectorId: number; idTag: string; userId: number | null;
    meterStartWh: number; startedAt: string; reservationId: number | null; idTagInfo: IdTagInfo;
  };
  'meter.sampled': MeterSample;
  'session.stopped': ChargerRef & {
    transactionId: number; connectorId: number; idTag: string; userId: number | null;
    meterStartWh: number; meterStopWh: number; energyWh: number;
    startedAt: string; stoppedAt: string; reason: string | null;
  };
  /**
   * A charger started a session on a connector whose previous session was still open (it forgot it: a power cut,
   * a reset); the old one was closed as stopReason "Superseded" at its last energy reading (also a session.stopped).
   */
  'session.superseded': ChargerRef & {
    transactionId: number; connectorId: number; byTransactionId: number;
    /** The last energy register reading of the old session (its meterStart without readings), in Wh. */
    meterStopWh: number;
    lastReadingAt: string | null;
  };
  'token.presented': ChargerRef & {
    idTag: string; connectorId: number | null;
    context: 'Authorize' | 'StartTransaction' | 'StopTransaction';
    idTagInfo: IdTagInfo; known: boolean;
  };
  /** Lenient mode stored a charger's over-long string cut to its OCPP maximum (ocpp.lenient). */
  'field.truncated': ChargerRef & { action: string; field: string; maxLength: number; length: number };
  /**
   * A firmware update's progress, in the words of OCPP 2.0.1 and the 1.6 security whitepaper (1.6's own are a subset):
   * Downloading, Downloaded, Installing, Installed, DownloadFailed, InstallationFailed, InvalidSignature, SignatureVerified, ...
   */
  'firmware.status': ChargerRef & {
    status: string;
    /** The id of the update it reports on (2.0.1, signed 1.6 updates); null when the charger gave none. */
    requestId: number | null;
  };
  /**
   * A security event the charger reported (SecurityEventNotification of 2.0.1 and the 1.6 security whitepaper):
   * type as the charger named it (at most 50 characters), techInfo its free text (at most 255); at is when it arrived.
   */
  'charger.securityEvent': ChargerRef & { type: string; techInfo: string | null; chargerTime: string };
  /** A log upload's progress; status is one of Idle, Uploading, Uploaded, UploadFailed, Cancelled, whatever the version. */
  'diagnostics.status': ChargerRef & {
    status: 'Idle' | 'Uploading' | 'Uploaded' | 'UploadFailed' | 'Cancelled';
    /** As the charger said it: 1.6 "UploadFailed", 2.0.1 "UploadFailure", "PermissionDenied", ... */
    reported: string;
    /** The id of the log request it reports on (2.0.1 GetLog); null when the charger gave none. */
    requestId: number | null;
  };
  'datatransfer.received': ChargerRef & { vendorId: string; messageId: string | null; data: string | null };
  'command.sent': ChargerRef & {
    action: string; request: unknown; response?: unknown;
    error?: string;
    /** Why it failed (see SendErrorKind). */
    errorKind?: SendErrorKind;
    actor: string;
  };
  'plugin.failed': { plugin: string; hook: string; error: string; at: string };
  'meter.unreachable': { meterId: string; at: string; error: string };
  'meter.reachable': { meterId: string; at: string };
  'finding.raised': Finding;
  'finding.cleared': Finding;
  /** diagnostics: an active finding changed severity or wording (e.g. a new error code); same id. */
  'finding.updated': Finding;
  'alert.raised': Alert;
  'alert.acknowledged': Alert & { by: string };
  'alert.resolved': Alert;
  // alerts plugin: an alert changed without being raised anew (re-opened by a flap, new message or severity, outage grew).
  'alert.updated': Alert;
  // reservations plugin: a connector held for one driver (a reservation), or offered to the next driver in line (waitlist).
  'reservation.created': ReservationEvent;
  /** state tells how it ended: used (its driver started charging), expired (a no-show) or cancelled. */
  'reservation.ended': ReservationEvent;
  /**
   * A charger dropped a reservation it held: its time was up (expired) or the charger removed it (removed).
   * reservationId is the charger's word: a listener acts only on a reservation it made at this chargerId.
   */
  'reservation.status': ChargerRef & { reservationId: number; status: 'expired' | 'removed' };
  /**
   * loadbalancing plugin: a charger it cannot steer (no Smart Charging, refuses or ignores its limit), a circuit
   * meter it no longer trusts, or a circuit whose connectors at their failsafe exceed its fuse; problem null = it is fine again.
   */
  'loadbalancing.problem': {
    at: string; kind: 'charger' | 'meter' | 'circuit'; chargerId: string | null; meterId: string | null; circuitId: string | null;
    reason: 'unsupported' | 'refused' | 'ignores-limit' | 'meter-stale' | 'failsafe-exceeds' | null; problem: string | null;
  };
  /**
   * chargermodels plugin: the firmware bugs its catalogue knows for a charger's model and firmware, at each boot or
   * reconnection (entry null = no entry matches; bugs empty = none known for this firmware).
   */
  'chargermodels.bugs': ChargerRef & {
    entry: string | null; firmwareVersion: string | null;
    bugs: Array<{ summary: string; advice: string; link: string | null }>;
  };
  'queue.offered': { entryId: number; userId: number; chargerId: string; connectorId: number; holdUntil: string; at: string };
  /** The offered driver did not start charging before holdUntil; the connector goes to the next in line. */
  'queue.skipped': { entryId: number; userId: number; chargerId: string; connectorId: number; at: string };
  /** The driver waited longer than queueMaxWait without being offered a connector and left the line. */
  'queue.expired': { entryId: number; userId: number; chargerId: string | null; createdAt: string; at: string };
}

export type EventName = keyof EventMap;

/** reservations plugin: a reservation as GET /api/reservations shows it, when it was made or ended. */
export interface ReservationEvent {
  id: number; chargerId: string; connectorId: number; idTag: string; userId: number | null;
  expiresAt: string; state: 'active' | 'used' | 'expired' | 'cancelled'; at: string;
}

export interface AuthorizeRequest {
  chargerId: string;
  connectorId: number | null;
  idTag: string;
  context: 'Authorize' | 'StartTransaction' | 'StopTransaction' | 'RemoteStart';
  transactionId?: number;
}

export interface AuthorizeAnswer extends IdTagInfo {
  /** The account that owns the tag, when known. */
  userId?: number | null;
  /** false when the deciding plugin has never seen this idTag (shown as an unknown card). */
  known?: boolean;
}

export interface TransactionForCost {
  id: number; chargerId: string; connectorId: number; idTag: string; userId: number | null;
  startedAt: string; stoppedAt: string | null; meterStartWh: number; meterStopWh: number | null;
}

export interface TransactionCost {
  /** Decimal string rounded to the currency's minor unit. */
  amount: string;
  /** ISO 4217. */
  currency: string;
  // billing plugin: a running session's price so far; it changes until the session stops.
  estimate?: boolean;
}

/** Decisions are asked of handlers in registration order; the first answer that is not undefined wins. */
export interface Decisions {
  authorize(req: AuthorizeRequest): AuthorizeAnswer | undefined | Promise<AuthorizeAnswer | undefined>;
  /**
   * Asked after `authorize` accepted a tag: a plugin may narrow the answer
   * (a reservation held for another driver, an energy budget used up).
   * The first answer that is not undefined replaces the accepted one.
   */
  restrict(req: AuthorizeRequest & { answer: AuthorizeAnswer }): AuthorizeAnswer | undefined | Promise<AuthorizeAnswer | undefined>;
  /** The cost of a transaction, for GET /api/transactions. */
  cost(tx: TransactionForCost): TransactionCost | undefined | Promise<TransactionCost | undefined>;
  /**
   * The costs of a page of transactions at once, by id, so a list of 1,000 is not 1,000 questions;
   * the core asks `cost` for each one the answer leaves out.
   */
  costs(txs: readonly TransactionForCost[]): Map<number, TransactionCost> | undefined | Promise<Map<number, TransactionCost> | undefined>;
}
export type DecisionName = keyof Decisions;
