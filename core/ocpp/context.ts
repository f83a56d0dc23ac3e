import type { Knex } from 'knex';
import type { Bus } from '../bus.js';
import type { Clock } from '../clock.js';
import type { CoreConfig } from '../config.js';
import type { GroupWriter } from '../db/writer.js';
import type { AuthorizeAnswer, AuthorizeRequest } from '../events.js';
import type { Logger } from '../types.js';
import type { SampledUnits } from './sampled-units.js';
import type { CertificateRequests } from '../certificates/service.js';

/** What the server knows about a connected charger while its socket is open. */
export interface ChargerSession {
  id: string;
  approved: boolean;
  protocol: string;
  /** Transaction ids this charger named, and whether each is its own (a foreign one is never stored against it). */
  transactionOwnership: Map<number, boolean>;
  /** Fields of the message being handled that lenient mode cut to their OCPP maximum (empty for most messages). */
  truncatedFields: string[];
}

/** Everything an OCPP message handler may touch. */
export interface OcppContext {
  db: Knex;
  /** The group writer; in a cluster, one that refuses a write once this charger's lease moved (core/cluster). */
  writer: Pick<GroupWriter, 'write' | 'insert'>;
  bus: Bus;
  clock: Clock;
  log: Logger;
  config: CoreConfig['ocpp'];
  /** Open transaction id per "<chargerId>:<connectorId>", for MeterValues that carry none. */
  openTransactions: Map<string, number>;
  /** Last heartbeat per connected charger, stored with the last-seen times (coalesced). */
  heartbeats: Map<string, string>;
  /** The decision for a card; `known: false` in it when the deciding plugin never saw the card (2.0.1 answers Unknown). */
  authorize(req: AuthorizeRequest): Promise<AuthorizeAnswer>;
  /** Per-charger unit corrections for sampled values (none: read as OCPP says). */
  sampledUnits?: SampledUnits;
  /** Signs charger certificate requests with the site CA (none: every request is rejected). */
  certificates?: CertificateRequests;
}

/** A charger's timestamp as ISO UTC; falls back to the receive time when missing or unreadable. */
export function chargerTime(ts: unknown, received: string): string {
  if (typeof ts !== 'string') return received;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? received : new Date(ms).toISOString();
}

export type Handler<Req, Res> = (ctx: OcppContext, cp: ChargerSession, params: Req) => Promise<Res>;
