import { type KeyObject, X509Certificate, createHash, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import * as der from './der.js';

/** A name's attributes the appliance reads or writes. */
export interface NameParts { CN?: string; O?: string; OU?: string; C?: string }

const NAME_OIDS: Record<keyof NameParts, string> = { CN: '2.5.4.3', O: '2.5.4.10', OU: '2.5.4.11', C: '2.5.4.6' };
const OID_NAMES = Object.fromEntries(Object.entries(NAME_OIDS).map(([k, v]) => [v, k])) as Record<string, keyof NameParts>;

/** Signature algorithms by OID: the hash node:crypto is given (null: the key's own, Ed25519). */
const SIGNATURES: Record<string, string | null> = {
  '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
};

/** Keys a charger's certificate may have: RSA of 2048 bits or more, or the NIST curves OCPP names. */
const CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

export class CsrError extends Error {}

export interface ParsedCsr {
  subject: NameParts;
  /** The subject as the charger encoded it: copied into the certificate as it is. */
  subjectDer: Buffer;
  spkiDer: Buffer;
  publicKey: KeyObject;
}

export function pemToDer(pem: string, label: string): Buffer {
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`);
  const m = re.exec(pem);
  if (!m) throw new CsrError(`not a PEM ${label.toLowerCase()}`);
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

export const derToPem = (d: Buffer, label: string): string =>
  `-----BEGIN ${label}-----\n${(d.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`;

export function readName(node: der.Der): NameParts {
  const out: NameParts = {};
  for (const rdn of der.children(der.expect(node, 0x30, 'a name'))) {
    for (const atv of der.children(der.expect(rdn, 0x31, 'a relative name'))) {
      const [type, value] = der.children(der.expect(atv, 0x30, 'an attribute'));
      const key = OID_NAMES[der.readOid(type!)];
      if (key && value && out[key] === undefined) out[key] = der.readString(value);
    }
  }
  return out;
}

export function writeName(n: NameParts): Buffer {
  const order: Array<keyof NameParts> = ['C', 'O', 'OU', 'CN'];
  return der.seq(...order.filter((k) => n[k] !== undefined).map((k) =>
    der.set(der.seq(der.oid(NAME_OIDS[k]), k === 'C' ? der.tlv(0x13, Buffer.from(n[k]!, 'latin1')) : der.utf8(n[k]!)))));
}

function checkKey(key: KeyObject): void {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' && (d.modulusLength ?? 0) >= 2048) return;
  if (key.asymmetricKeyType === 'ec' && d.namedCurve && CURVES.has(d.namedCurve)) return;
  if (key.asymmetricKeyType === 'ed25519') return;
  throw new CsrError('key must be RSA of 2048 bits or more, or EC on P-256, P-384 or P-521');
}

/** Reads a PEM PKCS#10 request and checks its self-signature; throws CsrError when it is not a valid one. */
export function parseCsr(pem: string): ParsedCsr {
  try {
    const root = der.parse(pemToDer(pem, 'CERTIFICATE REQUEST'));
    const [info, alg, signature] = der.children(der.expect(root, 0x30, 'a request'));
    const [version, subject, spki] = der.children(der.expect(info, 0x30, 'the request info'));
    if (der.expect(version, 0x02, 'a version').value.toString('hex') !== '00') throw new CsrError('unknown request version');
    const algOid = der.readOid(der.children(der.expect(alg, 0x30, 'an algorithm'))[0]!);
    const hash = SIGNATURES[algOid];
    if (hash === undefined) throw new CsrError('unsupported signature algorithm');
    const spkiNode = der.expect(spki, 0x30, 'a public key');
    const publicKey = createPublicKey({ key: spkiNode.raw, format: 'der', type: 'spki' });
    checkKey(publicKey);
    const sig = der.expect(signature, 0x03, 'a signature').value;
    if (sig[0] !== 0) throw new CsrError('bad signature bits');
    if (!verify(hash, info!.raw, publicKey, sig.subarray(1))) throw new CsrError('signature does not verify');
    return { subject: readName(subject!), subjectDer: Buffer.from(subject!.raw), spkiDer: Buffer.from(spkiNode.raw), publicKey };
  } catch (err) {
    if (err instanceof CsrError) throw err;
    // Parser and key errors say nothing an operator can act on beyond "malformed".
    throw new CsrError('malformed request');
  }
}

/** The algorithm identifier and hash a key signs with. */
function signerOf(key: KeyObject): { alg: Buffer; hash: string | null } {
  if (key.asymmetricKeyType === 'rsa') return { alg: der.seq(der.oid('1.2.840.113549.1.1.11'), der.nul()), hash: 'sha256' };
  if (key.asymmetricKeyType === 'ed25519') return { alg: der.seq(der.oid('1.3.101.112')), hash: null };
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const [o, hash] = curve === 'secp384r1' ? ['1.2.840.10045.4.3.3', 'sha384'] : curve === 'secp521r1' ? ['1.2.840.10045.4.3.4', 'sha512'] : ['1.2.840.10045.4.3.2', 'sha256'];
    return { alg: der.seq(der.oid(o)), hash };
  }
  throw new Error(`cannot sign with a ${key.asymmetricKeyType ?? 'unknown'} key`);
}

/** A PEM certificate request, as a charger makes one (tests and tools). */
export function createCsr(subject: NameParts, privateKey: KeyObject): string {
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const info = der.seq(der.uint(0), writeName(subject), spki, der.tlv(0xa0));
  const { alg, hash } = signerOf(privateKey);
  return derToPem(der.seq(info, alg, der.bits(sign(hash, info, privateKey))), 'CERTIFICATE REQUEST');
}

/** The subjectPublicKey bits of a SubjectPublicKeyInfo, hashed as RFC 5280 4.2.1.2 (1) says. */
function keyId(spkiDer: Buffer): Buffer {
  const [, key] = der.children(der.parse(spkiDer));
  return createHash('sha1').update(key!.value.subarray(1)).digest();
}

const ext = (id: string, critical: boolean, value: Buffer) => der.seq(der.oid(id), ...(critical ? [der.bool(true)] : []), der.octets(value));

export type CertificateUse = 'ca' | 'client' | 'server' | 'clientAndServer';

export interface IssueInput {
  /** The subject as DER (a CSR's, copied) or as parts. */
  subject: Buffer | NameParts;
  spkiDer: Buffer;
  notBefore: Date;
  notAfter: Date;
  use: CertificateUse;
  /** Server certificates: DNS names and IP addresses. */
  altNames?: string[];
  issuer: { cert: X509Certificate | null; key: KeyObject };
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function altNames(names: string[]): Buffer {
  return der.seq(...names.map((n) => {
    const m = IPV4.exec(n);
    return m ? der.tlv(0x87, Buffer.from(m.slice(1, 5).map(Number))) : der.tlv(0x82, Buffer.from(n, 'latin1'));
  }));
}

/** A v3 certificate signed by the issuer's key (self-signed when issuer.cert is null); PEM and the parsed form. */
export function issueCertificate(input: IssueInput): { pem: string; cert: X509Certificate; serial: string } {
  const serialBytes = randomBytes(16);
  serialBytes[0] = (serialBytes[0]! & 0x7f) | 0x40; // positive, and always 16 bytes long
  const subjectDer = Buffer.isBuffer(input.subject) ? input.subject : writeName(input.subject);
  const issuerDer = input.issuer.cert ? issuerName(input.issuer.cert) : subjectDer;
  const issuerSpki = input.issuer.cert
    ? input.issuer.cert.publicKey.export({ type: 'spki', format: 'der' })
    : createPublicKey(input.issuer.key).export({ type: 'spki', format: 'der' });
  const { alg, hash } = signerOf(input.issuer.key);
  const isCa = input.use === 'ca';
  const rsa = createPublicKey({ key: input.spkiDer, format: 'der', type: 'spki' }).asymmetricKeyType === 'rsa';
  // digitalSignature (0), keyEncipherment (2) for RSA or keyAgreement (4) for EC; a CA: keyCertSign (5), cRLSign (6).
  const usage = isCa ? der.namedBits(0, 5, 6) : der.namedBits(0, rsa ? 2 : 4);
  const purposes = { ca: [], client: ['1.3.6.1.5.5.7.3.2'], server: ['1.3.6.1.5.5.7.3.1'], clientAndServer: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'] }[input.use];
  const extensions = [
    ext('2.5.29.19', true, isCa ? der.seq(der.bool(true), der.uint(0)) : der.seq()),
    ext('2.5.29.15', true, usage),
    ...(purposes.length ? [ext('2.5.29.37', false, der.seq(...purposes.map(der.oid)))] : []),
    ext('2.5.29.14', false, der.octets(keyId(input.spkiDer))),
    ext('2.5.29.35', false, der.seq(der.tlv(0x80, keyId(issuerSpki)))),
    ...(input.altNames?.length ? [ext('2.5.29.17', false, altNames(input.altNames))] : []),
  ];
  const tbs = der.seq(
    der.explicit(0, der.uint(2)), der.uint(serialBytes), alg, issuerDer,
    der.seq(der.time(input.notBefore), der.time(input.notAfter)), subjectDer, input.spkiDer,
    der.explicit(3, der.seq(...extensions)),
  );
  const pem = derToPem(der.seq(tbs, alg, der.bits(sign(hash, tbs, input.issuer.key))), 'CERTIFICATE');
  return { pem, cert: new X509Certificate(pem), serial: serialBytes.toString('hex').toUpperCase() };
}

/** The subject of a certificate as it encoded it (the issuer field of what it signs must match byte for byte). */
export function issuerName(cert: X509Certificate): Buffer {
  const [tbs] = der.children(der.parse(cert.raw));
  const fields = der.children(tbs!);
  // version [0] is present in v3; then serial, signature, issuer, validity, subject.
  const offset = fields[0]!.tag === 0xa0 ? 1 : 0;
  return Buffer.from(fields[offset + 4]!.raw);
}

/** The common name in an X509Certificate's subject (node prints it as "CN=..." lines). */
export function commonNameOf(cert: X509Certificate): string | null {
  const [tbs] = der.children(der.parse(cert.raw));
  const fields = der.children(tbs!);
  const offset = fields[0]!.tag === 0xa0 ? 1 : 0;
  return readName(fields[offset + 4]!).CN ?? null;
}

/** Every certificate in a PEM bundle, first (the leaf) first. */
export function splitPemChain(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));
}

/** How OCPP names an installed certificate: hashes of its issuer's name and key, and its serial (SHA-256). */
export function certificateHashData(cert: X509Certificate, issuer: X509Certificate) {
  const [tbs] = der.children(der.parse(cert.raw));
  const fields = der.children(tbs!);
  const offset = fields[0]!.tag === 0xa0 ? 1 : 0;
  const [, key] = der.children(der.parse(issuer.publicKey.export({ type: 'spki', format: 'der' })));
  return {
    hashAlgorithm: 'SHA256' as const,
    issuerNameHash: createHash('sha256').update(fields[offset + 2]!.raw).digest('hex'),
    issuerKeyHash: createHash('sha256').update(key!.value.subarray(1)).digest('hex'),
    serialNumber: cert.serialNumber.toLowerCase().replace(/^0+(?=.)/, ''),
  };
}
