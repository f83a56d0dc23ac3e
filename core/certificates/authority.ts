import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type KeyObject, X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { Logger } from '../types.js';
import { type CertificateUse, type NameParts, type ParsedCsr, issueCertificate, splitPemChain } from './x509.js';

const CA_YEARS = 10;
/** Chargers' clocks run a little off: a certificate valid from "now" would be refused by one a minute behind. */
const BACKDATE_MS = 5 * 60_000;

export interface CaSource { cert: string; key: string }

export interface Issued { chainPem: string; cert: X509Certificate; serial: string }

/**
 * The CA that signs charger certificates: the installer's (ocpp.security.ca) or one made on first
 * start in <dataDir>/ca/. Its key is read once, kept in this object and never handed out.
 */
export class CertificateAuthority {
  readonly cert: X509Certificate;
  /** The CA certificate and any intermediates after it, as PEM: what chargers install as their root. */
  readonly chainPem: string;
  readonly #key: KeyObject;

  private constructor(chainPem: string, key: KeyObject) {
    const [cert] = splitPemChain(chainPem);
    if (!cert) throw new Error('the CA file holds no PEM certificate');
    if (!cert.ca) throw new Error('the CA certificate is not a CA (basicConstraints CA:TRUE)');
    if (!cert.checkPrivateKey(key)) throw new Error('the CA key does not belong to the CA certificate');
    this.cert = cert;
    this.chainPem = chainPem;
    this.#key = key;
  }

  /** The configured CA, or the site's own (made now when there is none yet). */
  static open(source: CaSource | undefined, dataDir: string, siteName: string, organization: string | undefined, log: Logger): CertificateAuthority {
    if (source) return new CertificateAuthority(readFileSync(source.cert, 'utf8'), createPrivateKey(readFileSync(source.key)));
    const dir = join(dataDir, 'ca');
    const certFile = join(dir, 'ca.pem');
    const keyFile = join(dir, 'ca.key');
    if (existsSync(certFile) && existsSync(keyFile)) {
      return new CertificateAuthority(readFileSync(certFile, 'utf8'), createPrivateKey(readFileSync(keyFile)));
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const now = Date.now();
    const subject: NameParts = { CN: `${siteName.slice(0, 40)} charger CA`, ...(organization ? { O: organization } : {}) };
    const { pem } = issueCertificate({
      subject, spkiDer: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
      notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + CA_YEARS * 365.25 * 86_400_000), use: 'ca',
      issuer: { cert: null, key: privateKey },
    });
    // The key first, owner-only, so that no moment exists where a certificate points at a readable key.
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    writeFileSync(certFile, pem);
    log.info(`created the site CA for charger certificates in ${dir}`);
    return new CertificateAuthority(pem, privateKey);
  }

  /** Signs a request (already checked by the caller) for validityMs, never beyond the CA's own end. */
  issue(csr: ParsedCsr, use: CertificateUse, nowMs: number, validityMs: number): Issued {
    const caEnd = Date.parse(this.cert.validTo);
    const notAfter = Math.min(nowMs + validityMs, Number.isNaN(caEnd) ? Infinity : caEnd);
    const { pem, cert, serial } = issueCertificate({
      subject: csr.subjectDer, spkiDer: csr.spkiDer, notBefore: new Date(nowMs - BACKDATE_MS), notAfter: new Date(notAfter), use,
      issuer: { cert: this.cert, key: this.#key },
    });
    return { chainPem: pem + this.chainPem, cert, serial };
  }
}
