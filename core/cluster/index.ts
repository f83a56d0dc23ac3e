import { hostname } from 'node:os';
import type { Knex } from 'knex';
import type { Bus } from '../bus.js';
import type { CoreConfig } from '../config.js';
import type { GroupWriter } from '../db/writer.js';
import { errorMessage, type FieldProblem } from '../errors.js';
import type { EventName } from '../events.js';
import {
  ChargerCallError, ChargerOfflineError, ChargerTimeoutError, CommandNotInProtocolError, CommandPayloadError, sendErrorOf,
} from '../ocpp/send-error.js';
import type { OcppCluster, OcppServer } from '../ocpp/server.js';
import type { Logger } from '../types.js';
import { JobLocks } from './jobs.js';
import { Leases } from './leases.js';
import { ClusterLink, type Answer, type CommandRequest } from './link.js';

export type ClusterConfig = NonNullable<CoreConfig['cluster']>;

/** The node's name: the configured one, else the hostname cut to what the config allows. */
export const nodeIdOf = (config: ClusterConfig) => config.nodeId ?? (hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64) || 'node');

/** What the charger service asks of the cluster (core/chargers.ts). */
export interface ClusterRouting {
  /** Whether a charger is connected to another node (a live lease there). */
  isOnline(chargerId: string): boolean;
  onlineIds(): string[];
  /** The other node serving this charger now, or null (not connected anywhere else). */
  ownerOf(chargerId: string): Promise<string | null>;
  /** Sends a command through the node serving the charger; fails with the same SendErrors as a local send. */
  sendVia(node: string, req: CommandRequest): Promise<unknown>;
}

interface Deps { config: ClusterConfig; callTimeoutMs: number; connection: Record<string, unknown>; db: Knex; writer: GroupWriter; bus: Bus; ocpp: OcppServer; log: Logger }

/**
 * One node of several (`cluster:` in the site config): leases of the chargers connected here, fenced
 * writes, commands routed to the node a charger is on, events shared for display, jobs run once.
 */
export class Cluster implements OcppCluster, ClusterRouting {
  readonly nodeId: string;
  readonly leases: Leases;
  readonly jobs: JobLocks;
  readonly link: ClusterLink;
  #d: Deps;
  /** Lease epoch of each charger connected here. */
  #held = new Map<string, number>();
  /** Chargers with a live lease on another node, as of the last renewal (or lease news). */
  #elsewhere = new Map<string, string>();
  #timer: NodeJS.Timeout | null = null;
  #offLocal: (() => void) | null = null;
  #renewing: Promise<void> | null = null;
  /** Lease releases under way, awaited on stop (before the database closes). */
  #releases = new Set<Promise<unknown>>();

  constructor(d: Deps) {
    this.#d = d;
    this.nodeId = nodeIdOf(d.config);
    this.leases = new Leases(d.db, this.nodeId, d.config.leaseTimeout);
    this.jobs = new JobLocks(d.connection, d.log.child('jobs'));
    this.link = new ClusterLink({
      url: d.config.bus, nodeId: this.nodeId, prefix: d.config.prefix, protocolVersion: d.config.protocolVersion, log: d.log,
      onEvent: (event, payload) => this.#remoteEvent(event, payload),
      onCommand: (req) => this.#command(req),
      onLeaseTaken: (chargerId, epoch) => void d.ocpp.leaseLost(chargerId, epoch),
    });
  }

  async start(): Promise<void> {
    await this.link.start();
    this.#offLocal = this.#d.bus.onLocal((event, payload) => this.link.publishEvent(event, payload));
    await this.#renew().catch(() => undefined);
    this.#timer = setInterval(() => void this.#renew().catch(() => undefined), this.#d.config.leaseRenewal);
    this.#timer.unref();
  }

  /** Renews this node's leases, closes sockets whose lease moved, and refreshes who is online elsewhere. */
  #renew(): Promise<void> {
    this.#renewing ??= (async () => {
      try {
        const lost = await this.leases.renew(new Map(this.#held));
        for (const id of lost) {
          const epoch = this.#held.get(id);
          if (epoch !== undefined) void this.#d.ocpp.leaseLost(id, epoch + 1);
        }
        this.#elsewhere = await this.leases.elsewhere();
      } catch (err) {
        // The database is down: sockets stay, their writes fail (fenced) until it is back.
        this.#d.log.warn(`could not renew charger leases: ${errorMessage(err)}`);
        throw err;
      } finally {
        this.#renewing = null;
      }
    })();
    return this.#renewing;
  }

  // --- the OCPP edge (OcppCluster) ---

  async claim(chargerId: string): Promise<number> {
    const { epoch, previous } = await this.leases.claim(chargerId);
    this.#elsewhere.delete(chargerId);
    if (previous) this.link.tellLeaseTaken(previous, chargerId, epoch);
    return epoch;
  }

  writerFor(chargerId: string, epoch: number) {
    return this.leases.fenced(this.#d.writer, chargerId, epoch);
  }

  connected(chargerId: string, epoch: number): void {
    this.#held.set(chargerId, epoch);
  }

  closed(chargerId: string, epoch: number, stored: Promise<unknown>): void {
    if (this.#held.get(chargerId) === epoch) this.#held.delete(chargerId);
    const release = stored.finally(() => this.leases.release(chargerId, epoch)).catch((err: unknown) => {
      this.#d.log.warn(`could not release the lease of ${chargerId}: ${errorMessage(err)}`);
    });
    this.#releases.add(release);
    void release.finally(() => this.#releases.delete(release));
  }

  // --- the charger service (ClusterRouting) ---

  isOnline(chargerId: string): boolean {
    return this.#elsewhere.has(chargerId);
  }

  onlineIds(): string[] {
    return [...this.#elsewhere.keys()];
  }

  ownerOf(chargerId: string): Promise<string | null> {
    return this.leases.ownerOf(chargerId).then((node) => (node === this.nodeId ? null : node));
  }

  async sendVia(node: string, req: CommandRequest): Promise<unknown> {
    const answer = await this.link.request(node, req, req.timeoutMs ?? this.#d.callTimeoutMs);
    if (answer.ok) return answer.response;
    throw errorOfAnswer(answer);
  }

  /** Another node asks this one to send a command to a charger connected here. */
  async #command(req: CommandRequest): Promise<Answer> {
    try {
      const timeoutMs = req.timeoutMs !== undefined ? Math.min(Math.max(req.timeoutMs, 1000), 300_000) : undefined;
      return { ok: true, response: await this.#d.ocpp.send(req.chargerId, req.action, req.payload, timeoutMs) };
    } catch (err) {
      return answerOfError(err);
    }
  }

  #remoteEvent(event: string, payload: unknown): void {
    // Lease changes show at once, not only at the next renewal.
    const chargerId = (payload as { chargerId?: unknown } | null)?.chargerId;
    if (typeof chargerId === 'string' && !this.#held.has(chargerId)) {
      if (event === 'charger.connected') void this.leases.ownerOf(chargerId).then((n) => { if (n && n !== this.nodeId) this.#elsewhere.set(chargerId, n); }, () => undefined);
      if (event === 'charger.disconnected') this.#elsewhere.delete(chargerId);
    }
    this.#d.bus.replay(event as EventName, payload);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#offLocal?.();
    await Promise.allSettled([...this.#releases]);
    await this.jobs.stop();
    await this.link.stop();
  }
}

/** A failed send as an answer another node can rebuild the same SendError from. */
function answerOfError(err: unknown): Answer {
  const e = sendErrorOf(err);
  const message = errorMessage(err);
  switch (e?.kind) {
    case 'callerror': return { ok: false, kind: e.kind, message, code: e.code };
    case 'invalid': return { ok: false, kind: e.kind, message, fields: e.fields };
    case 'unsupported': return { ok: false, kind: e.kind, message, action: e.action, protocol: e.protocol };
    case 'offline': case 'timeout': return { ok: false, kind: e.kind, message };
    default: return { ok: false, kind: 'error', message };
  }
}

function errorOfAnswer(a: Extract<Answer, { ok: false }>): Error {
  const message = String(a.message).slice(0, 1000);
  switch (a.kind) {
    case 'offline': return new ChargerOfflineError(message);
    case 'timeout': return new ChargerTimeoutError(message);
    case 'callerror': return new ChargerCallError(String(a.code ?? 'GenericError'), message);
    case 'invalid': return new CommandPayloadError(message, Array.isArray(a.fields) ? a.fields as FieldProblem[] : []);
    case 'unsupported': return new CommandNotInProtocolError(String(a.action ?? ''), String(a.protocol ?? ''), message);
    default: return new Error(message);
  }
}
