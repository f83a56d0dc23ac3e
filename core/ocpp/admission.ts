import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Bus } from '../bus.js';
import type { Clock } from '../clock.js';
import type { CoreConfig } from '../config.js';
import type { GroupWriter } from '../db/writer.js';
import { LoginGuard } from '../http/login-guard.js';
import { verifyPassword } from '../passwords.js';
import type { Logger } from '../types.js';
import { IDENTITY_RE, RateLimit, printable } from './limits.js';

export interface Handshake {
  identity: string; password: Buffer | undefined; remoteAddress: string | undefined;
  /** Sec-WebSocket-Protocol values the charger offered (empty when it sent none). */
  protocols: ReadonlySet<string>;
  /** What the TLS layer saw of a client certificate (undefined over plain ws). */
  clientCertificate?: ClientCertificate;
}

/** A TLS client certificate as the socket verified it against the site CA. */
export interface ClientCertificate { presented: boolean; authorized: boolean; commonName: string | null }

/** The OCPP-J subprotocols this server speaks, preferred first (a charger offering both gets 1.6). */
export const SUBPROTOCOLS = ['ocpp1.6', 'ocpp2.0.1'] as const;

/** The last refused connection under a known charger's id, for its page. */
export interface Refusal { at: string; reason: string; remoteAddress: string }

export type Admission = { ok: true; approved: boolean } | { ok: false; code: number; reason: string };

export interface AdmissionDeps {
  db: Knex;
  writer: GroupWriter;
  bus: Bus;
  clock: Clock;
  log: Logger;
  config: CoreConfig['ocpp'];
  /** Resolves true when the charger's current socket answers a ping in time (false when none is open). */
  isAlive(chargerId: string): Promise<boolean>;
}

/** scrypt runs on libuv's four threads; two at a time leaves room for the database and file reads. */
const MAX_CONCURRENT_VERIFICATIONS = 2;
const MAX_WAITING_VERIFICATIONS = 64;
/** Why a profile-3 connection may not open: no certificate, one the site CA did not sign, or one for another charger. */
function certificateRefusal(h: Handshake): { code: number; reason: string } | null {
  const c = h.clientCertificate;
  if (!c?.presented) return { code: 401, reason: 'no client certificate (security profile 3)' };
  if (!c.authorized) return { code: 401, reason: 'client certificate not signed by the site CA' };
  // Its name is not logged: it is whatever the other side put there.
  if (c.commonName !== h.identity) return { code: 403, reason: 'client certificate is for another charger (CN)' };
  return null;
}

/** Unknown and malformed ids are summed up in one event per window, not one alert each. */
const REFUSAL_WINDOW_MS = 10 * 60_000;
const MAX_LISTED = 10;

/** Connections per charger id and address: 20 at once, then one every 3 s (a flapping network reconnects far less). */
const CONNECT_BURST = 20;
const CONNECTS_PER_SECOND = 1 / 3;

interface Digest { startedMs: number; count: number; addresses: Set<string>; ids: Set<string>; timer: NodeJS.Timeout | null }

/**
 * Decides who may open a charger socket: a valid identity, a known (or
 * newly registered) charger, the right password — guessed passwords
 * throttled per id and address before any scrypt runs — and no live
 * connection of the same charger already open.
 */
export class Admissions {
  readonly #d: AdmissionDeps;
  readonly #guard: LoginGuard;
  /**
   * Digests of (stored hash, password) pairs already proven: a reconnect storm of 3,000 chargers skips
   * 3,000 scrypt runs. A changed password has a new hash, so old entries never match it.
   */
  readonly #verified = new Set<string>();
  readonly #connects = new Map<string, RateLimit>();
  /** Per known charger id: bounded by the chargers table, not by what strangers send. */
  readonly #refusals = new Map<string, Refusal>();
  #running = 0;
  readonly #waiting: Array<() => void> = [];
  #digest: Digest | null = null;
  /** Known chargers refused for their subprotocol, and what they offered: logged once until that changes or they get in. */
  readonly #wrongProtocol = new Map<string, string>();

  constructor(d: AdmissionDeps) {
    this.#d = d;
    this.#guard = new LoginGuard(d.clock);
  }

  async admit(h: Handshake): Promise<Admission> {
    const { log, bus, clock, db } = this.#d;
    const at = clock.iso();
    const address = h.remoteAddress ?? '';
    if (!IDENTITY_RE.test(h.identity)) return this.#refuseUnknown(h, 400, 'invalid charge point id');
    if (!this.#connectAllowed(h.identity, address)) return { ok: false, code: 429, reason: 'reconnecting too often' };
    const row = await db('chargers').where({ id: h.identity }).first('id', 'approved', 'password_hash');
    // Checked before anything is registered: the upgrade would fail after admission and leave a charger record behind.
    if (!SUBPROTOCOLS.some((p) => h.protocols.has(p))) return this.#refuseProtocol(h, Boolean(row));
    // Security profile 3: the certificate is the charger's credential, checked before anything is registered.
    const certified = this.#d.config.security?.profile === 3;
    if (certified) {
      const refusal = certificateRefusal(h);
      if (refusal) return row ? this.#refuse(h, refusal.code, refusal.reason) : this.#refuseUnknown(h, refusal.code, refusal.reason);
    }
    if (!row) {
      const mode = this.#d.config.unknownChargers;
      if (mode === 'reject') return this.#refuseUnknown(h, 401, 'unknown charger');
      const approved = mode === 'accept';
      await this.#d.writer.write(async (trx) => {
        await trx('chargers').insert({ id: h.identity, approved, registered_at: at, last_seen_at: at }).onConflict('id').ignore();
      });
      log.info(`registered new charger ${h.identity} (${approved ? 'accepted' : 'pending approval'})`);
      bus.emit('charger.registered', { chargerId: h.identity, at, approved });
      return { ok: true, approved };
    }
    const hash = (row.password_hash as string | null) ?? null;
    if (hash && !certified) {
      if (!h.password) return this.#refuse(h, 401, 'password required');
      const wait = this.#guard.waitMs(h.identity, address);
      if (wait > 0) return this.#refuse(h, 429, `too many wrong passwords, locked for ${Math.ceil(wait / 1000)} s`, false);
      const ok = await this.#verify(h.password, hash);
      if (ok === null) return this.#refuse(h, 503, 'too many password checks at once', false);
      if (!ok) {
        this.#guard.failed(h.identity, address);
        return this.#refuse(h, 401, 'wrong password');
      }
      this.#guard.succeeded(h.identity, address);
    }
    this.#wrongProtocol.delete(h.identity);
    // A socket that still answers is the real charger; a newcomer with the same id is someone else.
    if (await this.#d.isAlive(h.identity)) {
      return this.#refuse(h, 409, `someone else tried to connect as ${h.identity} while it is connected`);
    }
    return { ok: true, approved: Boolean(row.approved) };
  }

  lastRefusal(chargerId: string): Refusal | undefined {
    return this.#refusals.get(chargerId);
  }

  /** Each connection writes history rows: a charger reconnecting in a loop must not write them without bound. */
  #connectAllowed(id: string, address: string): boolean {
    const key = `${id}|${address}`;
    const now = this.#d.clock.nowMs();
    let bucket = this.#connects.get(key);
    if (!bucket) {
      if (this.#connects.size >= 20_000) this.#connects.clear();
      bucket = new RateLimit(CONNECTS_PER_SECOND, CONNECT_BURST, now);
      this.#connects.set(key, bucket);
    }
    const ok = bucket.take(now);
    // Logged once per run of refusals, not per try.
    if (!ok && bucket.refusedInRow === 1) this.#d.log.warn(`charger ${id} from ${address} reconnects too often; refusing for a few seconds`);
    return ok;
  }

  close(): void {
    if (this.#digest?.timer) clearTimeout(this.#digest.timer);
    this.#digest = null;
  }

  /** A charger that speaks another OCPP version (or sent no subprotocol): it retries forever, so it is logged once. */
  #refuseProtocol(h: Handshake, known: boolean): Admission {
    const offered = h.protocols.size ? [...h.protocols].map((p) => `"${printable(p, 24)}"`).slice(0, 5).join(', ') : 'no subprotocol';
    const reason = `wrong OCPP version: it offered ${offered}, this server speaks ${SUBPROTOCOLS.join(', ')}`;
    if (!known) return this.#refuseUnknown(h, 400, `wrong OCPP version (this server speaks ${SUBPROTOCOLS.join(', ')})`);
    const first = this.#wrongProtocol.get(h.identity) !== offered;
    this.#wrongProtocol.set(h.identity, offered);
    return this.#refuse(h, 400, reason, first, first);
  }

  #refuse(h: Handshake, code: number, reason: string, alert = true, log = true): Admission {
    const address = h.remoteAddress ?? '';
    if (log) this.#d.log.warn(`refused charger ${h.identity} from ${address}: ${reason}`);
    this.#refusals.set(h.identity, { at: this.#d.clock.iso(), reason, remoteAddress: address });
    // A locked-out guesser is already known to the operator from its first failures.
    if (alert) this.#d.bus.emit('charger.rejected', { chargerId: h.identity, at: this.#d.clock.iso(), reason, remoteAddress: address });
    return { ok: false, code, reason };
  }

  /** Refusals of ids the site does not know: one log line and one event per window, with counts. */
  #refuseUnknown(h: Handshake, code: number, reason: string): Admission {
    const now = this.#d.clock.nowMs();
    const address = h.remoteAddress ?? '';
    const shown = printable(h.identity, 48);
    let d = this.#digest;
    const first = !d;
    if (!d) d = this.#digest = { startedMs: now, count: 0, addresses: new Set(), ids: new Set(), timer: null };
    d.count++;
    if (d.addresses.size < MAX_LISTED) d.addresses.add(address);
    if (d.ids.size < MAX_LISTED) d.ids.add(shown);
    if (first) {
      this.#d.log.warn(`refused charger "${shown}" from ${address}: ${reason} (further refusals of unknown ids are summed up every ${REFUSAL_WINDOW_MS / 60_000} min)`);
      this.#emitDigest(d, reason);
      d.count = 0;
      d.addresses.clear();
      d.ids.clear();
      d.timer = setTimeout(() => this.#windowEnd(reason), REFUSAL_WINDOW_MS);
      d.timer.unref();
    }
    return { ok: false, code, reason };
  }

  #windowEnd(reason: string): void {
    const d = this.#digest;
    if (!d) return;
    this.#emitDigest(d, reason);
    if (d.count === 0) {
      this.#digest = null;
      return;
    }
    this.#d.log.warn(`refused ${d.count} connections of unknown charger ids in the last ${REFUSAL_WINDOW_MS / 60_000} min from ${[...d.addresses].join(', ')}`);
    d.startedMs = this.#d.clock.nowMs();
    d.count = 0;
    d.addresses.clear();
    d.ids.clear();
    d.timer = setTimeout(() => this.#windowEnd(reason), REFUSAL_WINDOW_MS);
    d.timer.unref();
  }

  #emitDigest(d: Digest, reason: string): void {
    this.#d.bus.emit('chargers.refused', {
      at: this.#d.clock.iso(), since: new Date(d.startedMs).toISOString(), count: d.count,
      addresses: [...d.addresses], ids: [...d.ids], reason,
    });
  }

  /** scrypt with a bound on concurrent runs; null when too many are waiting already. */
  async #verify(password: Buffer, hash: string): Promise<boolean | null> {
    const key = createHash('sha256').update(hash).update('\0').update(password).digest('base64');
    if (this.#verified.has(key)) return true;
    if (this.#running >= MAX_CONCURRENT_VERIFICATIONS) {
      if (this.#waiting.length >= MAX_WAITING_VERIFICATIONS) return null;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#running++;
    try {
      const ok = await verifyPassword(password, hash);
      if (ok) {
        if (this.#verified.size > 10_000) this.#verified.clear();
        this.#verified.add(key);
      }
      return ok;
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }
}
