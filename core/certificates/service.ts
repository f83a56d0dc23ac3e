import { readFileSync } from 'node:fs';
import type { Knex } from 'knex';
import type { AuditLog } from '../audit.js';
import type { Bus } from '../bus.js';
import type { Clock } from '../clock.js';
import type { GroupWriter } from '../db/writer.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../types.js';
import type { CertificateAuthority } from './authority.js';
import { CsrError, type ParsedCsr, parseCsr, splitPemChain } from './x509.js';

/** What a charger certificate is for: its TLS client certificate, or ISO 15118 towards the car. */
export type CertificateKind = 'charger' | 'v2g';

/** A certificate as the API and checks see it: the server's own has chargerId null and use "server". */
export interface CertificateView {
  chargerId: string | null;
  use: CertificateKind | 'server';
  serial: string;
  commonName: string;
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the DER certificate, as colon-separated hex. */
  fingerprint: string;
  issuedAt: string | null;
  /** The charger's answer to CertificateSigned, or why it was not delivered; null while it is on its way. */
  delivery: string | null;
}

/** What ctx.core.certificates offers: the site's certificates, read only. */
export interface CertificateService {
  /** Whether the site has a CA (ocpp.security is set). */
  readonly enabled: boolean;
  /** The newest certificate per charger and use, and the server's own (http.tls) when there is one. */
  current(): Promise<CertificateView[]>;
  /** Every certificate issued to one charger, newest first. */
  list(chargerId: string): Promise<CertificateView[]>;
  /** The CA certificate chargers install as their root (PEM); null without a site CA. */
  caCertificate(): string | null;
}

/** What the OCPP handlers call for a SignCertificate. */
export interface CertificateRequests {
  sign(chargerId: string, csr: string, kind: CertificateKind): Promise<{ accepted: boolean; reason?: string }>;
}

export interface CertificatesDeps {
  db: Knex;
  writer: GroupWriter;
  bus: Bus;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  ca: CertificateAuthority | null;
  validityMs: number;
  organization: string | undefined;
  /** http.tls.cert, read on each look so that a renewed file is seen. */
  serverCertFile: string | undefined;
  /** Sends CertificateSigned in the charger's version; resolves with its answer. */
  deliver(chargerId: string, chainPem: string, kind: CertificateKind): Promise<{ accepted: boolean; status: string }>;
}

/** The OCPP schemas' bound on a CSR; checked here too, whatever the version's validator let through. */
export const MAX_CSR_CHARS = 5500;
/** A charger asking over and over must not fill the table: at most this many certificates per hour. */
const MAX_ISSUED_PER_HOUR = 10;
/** Sent after the SignCertificate answer went out: the charger expects its Accepted first. */
const DELIVERY_DELAY_MS = 25;

const view = (r: Record<string, unknown>): CertificateView => ({
  chargerId: r.charger_id as string, use: r.use as CertificateKind, serial: r.serial as string, commonName: r.common_name as string,
  notBefore: r.not_before as string, notAfter: r.not_after as string, fingerprint: r.fingerprint as string,
  issuedAt: r.issued_at as string, delivery: (r.delivery as string | null) ?? null,
});

/** Signs charger certificate requests with the site CA, stores what it issued, and lists it. */
export class Certificates implements CertificateService, CertificateRequests {
  readonly #d: CertificatesDeps;
  /** Chargers whose certificate is being signed and sent: one at a time each. */
  readonly #pending = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(d: CertificatesDeps) {
    this.#d = d;
  }

  get enabled(): boolean {
    return this.#d.ca !== null;
  }

  caCertificate(): string | null {
    return this.#d.ca?.chainPem ?? null;
  }

  async sign(chargerId: string, csr: string, kind: CertificateKind): Promise<{ accepted: boolean; reason?: string }> {
    const { ca, log, clock, db } = this.#d;
    if (!ca) return { accepted: false, reason: 'the site has no CA (ocpp.security is not set)' };
    if (typeof csr !== 'string' || csr.length > MAX_CSR_CHARS) return this.#reject(chargerId, kind, `request larger than ${MAX_CSR_CHARS} characters`, false);
    if (this.#pending.has(chargerId)) return { accepted: false, reason: 'a certificate for this charger is being signed' };
    let parsed: ParsedCsr;
    try {
      parsed = parseCsr(csr);
    } catch (err) {
      return this.#reject(chargerId, kind, err instanceof CsrError ? err.message : 'malformed request', false);
    }
    // The charger's own name only: a certificate for another id would let it connect as that charger.
    if (parsed.subject.CN !== chargerId) return this.#reject(chargerId, kind, 'the request names another charger (CN)', true);
    if (this.#d.organization !== undefined && parsed.subject.O !== this.#d.organization) {
      return this.#reject(chargerId, kind, 'the request names another organisation (O)', true);
    }
    const hourAgo = new Date(clock.nowMs() - 3_600_000).toISOString();
    const recent = await db('certificates').where({ charger_id: chargerId }).where('issued_at', '>', hourAgo).count<Array<{ n: number }>>({ n: '*' });
    if (Number(recent[0]?.n ?? 0) >= MAX_ISSUED_PER_HOUR) return { accepted: false, reason: 'too many certificates issued to this charger in the last hour' };
    this.#pending.add(chargerId);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#issue(chargerId, kind, parsed).catch((err: unknown) => log.error(`could not issue a certificate to ${chargerId}`, { error: errorMessage(err) }))
        .finally(() => this.#pending.delete(chargerId));
    }, DELIVERY_DELAY_MS);
    this.#timers.add(timer);
    return { accepted: true };
  }

  async #issue(chargerId: string, kind: CertificateKind, csr: ParsedCsr): Promise<void> {
    const { ca, clock, writer, bus, log } = this.#d;
    const issued = ca!.issue(csr, kind === 'v2g' ? 'clientAndServer' : 'client', clock.nowMs(), this.#d.validityMs);
    const at = clock.iso();
    const notAfter = new Date(Date.parse(issued.cert.validTo)).toISOString();
    await writer.write(async (trx) => {
      await trx('certificates').insert({
        charger_id: chargerId, serial: issued.serial, use: kind, common_name: chargerId,
        not_before: new Date(Date.parse(issued.cert.validFrom)).toISOString(), not_after: notAfter,
        fingerprint: issued.cert.fingerprint256, issued_at: at, pem: issued.cert.toString(),
      });
    });
    log.info(`issued certificate ${issued.serial} to ${chargerId} (${kind}, valid until ${notAfter})`);
    bus.emit('certificate.issued', { chargerId, at, serial: issued.serial, use: kind, notAfter });
    let delivery: string;
    try {
      const answer = await this.#d.deliver(chargerId, issued.chainPem, kind);
      delivery = answer.status;
      if (!answer.accepted) log.warn(`charger ${chargerId} refused its new certificate ${issued.serial} (${answer.status})`);
    } catch (err) {
      delivery = `not delivered: ${errorMessage(err)}`.slice(0, 120);
      log.warn(`could not send certificate ${issued.serial} to ${chargerId}: ${errorMessage(err)}`);
    }
    await writer.write(async (trx) => {
      await trx('certificates').where({ serial: issued.serial }).update({ delivery });
    });
  }

  /** A refused request: logged with our words only (never the request), audited; a wrong name is a security event. */
  async #reject(chargerId: string, kind: CertificateKind, reason: string, suspicious: boolean): Promise<{ accepted: false; reason: string }> {
    const { log, audit, bus, clock } = this.#d;
    log.warn(`rejected a certificate request of ${chargerId}: ${reason}`);
    await audit.record(`charger:${chargerId}`, 'certificate.rejected', chargerId, { reason, use: kind });
    if (suspicious) bus.emit('certificate.rejected', { chargerId, at: clock.iso(), reason, use: kind });
    return { accepted: false, reason };
  }

  async list(chargerId: string): Promise<CertificateView[]> {
    const rows = await this.#d.db('certificates').where({ charger_id: chargerId }).orderBy('id', 'desc').limit(200);
    return rows.map(view);
  }

  async current(): Promise<CertificateView[]> {
    const { db } = this.#d;
    const newest = db('certificates').max('id').groupBy('charger_id', 'use');
    const rows = await db('certificates').whereIn('id', newest).orderBy('charger_id');
    const out = rows.map(view);
    const server = this.#serverCertificate();
    if (server) out.push(server);
    return out;
  }

  #serverCertificate(): CertificateView | null {
    const file = this.#d.serverCertFile;
    if (!file) return null;
    try {
      const [cert] = splitPemChain(readFileSync(file, 'utf8'));
      if (!cert) return null;
      return {
        chargerId: null, use: 'server', serial: cert.serialNumber, commonName: /CN=([^\n]*)/.exec(cert.subject)?.[1] ?? '',
        notBefore: new Date(Date.parse(cert.validFrom)).toISOString(), notAfter: new Date(Date.parse(cert.validTo)).toISOString(),
        fingerprint: cert.fingerprint256, issuedAt: null, delivery: null,
      };
    } catch {
      return null;
    }
  }

  close(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
