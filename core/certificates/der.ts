/**
 * The few DER (ASN.1) shapes X.509 certificates and PKCS#10 requests need, read and written
 * by hand: node:crypto signs and verifies, but neither parses a CSR nor builds a certificate.
 */

export interface Der {
  tag: number;
  /** The content octets. */
  value: Buffer;
  /** The whole element, tag and length included (signed parts are verified over these bytes). */
  raw: Buffer;
}

export class DerError extends Error {}

/** One element at offset; its end. */
function readAt(buf: Buffer, offset: number): { node: Der; end: number } {
  if (offset + 2 > buf.length) throw new DerError('truncated element');
  const tag = buf[offset]!;
  // X.509 needs only low tag numbers; a high-tag-number form is not DER we expect.
  if ((tag & 0x1f) === 0x1f) throw new DerError('unsupported tag');
  let len = buf[offset + 1]!;
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || offset + 2 + n > buf.length) throw new DerError('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[offset + 2 + i]!;
    head += n;
  }
  const end = offset + head + len;
  if (end > buf.length) throw new DerError('truncated element');
  return { node: { tag, value: buf.subarray(offset + head, end), raw: buf.subarray(offset, end) }, end };
}

/** A whole buffer as one element (nothing may follow it). */
export function parse(buf: Buffer): Der {
  const { node, end } = readAt(buf, 0);
  if (end !== buf.length) throw new DerError('trailing bytes');
  return node;
}

/** The elements inside a constructed one (SEQUENCE, SET, [n]). */
export function children(node: Der): Der[] {
  if (!(node.tag & 0x20)) throw new DerError('expected a constructed element');
  const out: Der[] = [];
  let offset = 0;
  while (offset < node.value.length) {
    const { node: child, end } = readAt(node.value, offset);
    out.push(child);
    offset = end;
    if (out.length > 256) throw new DerError('too many elements');
  }
  return out;
}

export function expect(node: Der | undefined, tag: number, what: string): Der {
  if (!node || node.tag !== tag) throw new DerError(`expected ${what}`);
  return node;
}

export function readOid(node: Der): string {
  const v = expect(node, 0x06, 'an object identifier').value;
  if (!v.length) throw new DerError('empty object identifier');
  const parts: number[] = [];
  let n = 0;
  for (const byte of v) {
    n = n * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      if (!parts.length) parts.push(n < 80 ? Math.floor(n / 40) : 2, n < 80 ? n % 40 : n - 80);
      else parts.push(n);
      n = 0;
    }
  }
  return parts.join('.');
}

/** A directory string (UTF8, Printable, IA5, Teletex, BMP) as text. */
export function readString(node: Der): string {
  switch (node.tag) {
    case 0x0c: case 0x13: case 0x16: case 0x14: return node.value.toString(node.tag === 0x0c ? 'utf8' : 'latin1');
    case 0x1e: return Buffer.from(node.value).swap16().toString('utf16le');
    default: throw new DerError('expected a string');
  }
}

// ---- writing ----

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const value = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(value.length), value]);
};

export const seq = (...items: Buffer[]) => tlv(0x30, ...items);
export const set = (...items: Buffer[]) => tlv(0x31, ...items);
export const nul = () => Buffer.from([0x05, 0x00]);
export const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
export const octets = (v: Buffer) => tlv(0x04, v);
export const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
/** [n] EXPLICIT (constructed, wraps whole elements). */
export const explicit = (n: number, ...items: Buffer[]) => tlv(0xa0 | n, ...items);

/** A non-negative INTEGER from its big-endian magnitude. */
export function uint(magnitude: Buffer | number): Buffer {
  let b = typeof magnitude === 'number' ? Buffer.from([magnitude]) : magnitude;
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  b = b.subarray(i);
  return tlv(0x02, b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

/** BIT STRING of whole bytes (signatures, keys). */
export const bits = (v: Buffer) => tlv(0x03, Buffer.from([0]), v);

/** BIT STRING of named bits (key usage): bit 0 is the first byte's top bit; trailing zero bits dropped as DER wants. */
export function namedBits(...set: number[]): Buffer {
  const top = Math.max(...set);
  const bytes = Buffer.alloc(Math.floor(top / 8) + 1);
  for (const b of set) bytes[Math.floor(b / 8)]! |= 0x80 >> (b % 8);
  return tlv(0x03, Buffer.from([7 - (top % 8)]), bytes);
}

export function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out: number[] = [];
  for (const n of [a! * 40 + b!, ...rest]) {
    const groups: number[] = [];
    let v = n;
    do { groups.unshift(v & 0x7f); v = Math.floor(v / 128); } while (v > 0);
    out.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5). */
export function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), 'latin1')) : tlv(0x18, Buffer.from(iso, 'latin1'));
}
