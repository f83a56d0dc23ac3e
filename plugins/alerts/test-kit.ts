// Peers of the alerts plugin's tests that only it speaks to: a Web Push service and the browsers subscribed to it.
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify as cryptoVerify } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMessage } from '../../core/errors.js';

/** A browser's side of a push subscription: its P-256 key pair and auth secret. */
export function browserKeys() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, auth, p256dh: ecdh.getPublicKey().toString('base64url'), authB64: auth.toString('base64url') };
}

export interface PushMessage {
  path: string;
  /** The decrypted payload (RFC 8291 aes128gcm with the browser's keys). */
  json: any; // any: tests read arbitrary JSON
  /** The VAPID JWT's claims, its ES256 signature checked against the k= key. */
  claims: { aud: string; exp: number; sub: string };
  vapidKey: string;
}

/**
 * A push service stand-in over real HTTP: checks the VAPID JWT signature and
 * decrypts each message with the private keys of the browser it was sent to
 * (by path); `gone` paths answer 410 like an expired subscription.
 */
export async function startPushService() {
  const browsers = new Map<string, ReturnType<typeof browserKeys>>();
  const messages: PushMessage[] = [];
  const errors: string[] = [];
  const gone = new Set<string>();
  // Push services speak HTTPS only; a throwaway self-signed certificate for 127.0.0.1, trusted through caFile.
  const dir = mkdtempSync(join(tmpdir(), 'push-service-'));
  const caFile = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', caFile], { stdio: 'ignore' });
  const server = createHttpsServer({ cert: readFileSync(caFile), key: readFileSync(join(dir, 'key.pem')) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      try {
        if (gone.has(path)) { res.writeHead(410).end(); return; }
        const b = browsers.get(path);
        if (!b) throw new Error(`no browser at ${path}`);
        if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error(`content-encoding ${req.headers['content-encoding']}`);
        // VAPID (RFC 8292): Authorization: vapid t=<JWT>, k=<P-256 public key>.
        const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)/.exec(req.headers.authorization ?? '');
        if (!m) throw new Error(`authorization ${req.headers.authorization}`);
        const [head, body, sig] = m[1]!.split('.');
        const k = Buffer.from(m[2]!, 'base64url');
        const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: k.subarray(1, 33).toString('base64url'), y: k.subarray(33, 65).toString('base64url') }, format: 'jwk' });
        if (!cryptoVerify('sha256', Buffer.from(`${head}.${body}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig!, 'base64url'))) throw new Error('bad VAPID signature');
        const claims = JSON.parse(Buffer.from(body!, 'base64url').toString('utf8')) as PushMessage['claims'];
        // RFC 8291: salt(16) rs(4) idlen(1) keyid(= the sender's public key) ciphertext.
        const raw = Buffer.concat(chunks);
        const salt = raw.subarray(0, 16);
        const idlen = raw[20]!;
        const asPublic = raw.subarray(21, 21 + idlen);
        const cipher = raw.subarray(21 + idlen);
        const secret = b.ecdh.computeSecret(asPublic);
        const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), b.ecdh.getPublicKey(), asPublic]);
        const ikm = Buffer.from(hkdfSync('sha256', secret, b.auth, keyInfo, 32));
        const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
        const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
        const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
        decipher.setAuthTag(cipher.subarray(cipher.length - 16));
        const plain = Buffer.concat([decipher.update(cipher.subarray(0, cipher.length - 16)), decipher.final()]);
        // The last record ends with the delimiter 0x02, then zero padding.
        let end = plain.length - 1;
        while (end > 0 && plain[end] === 0) end--;
        if (plain[end] !== 2) throw new Error('no last-record delimiter');
        messages.push({ path, json: JSON.parse(plain.subarray(0, end).toString('utf8')), claims, vapidKey: m[2]! });
        res.writeHead(201).end();
      } catch (err) {
        errors.push(errorMessage(err));
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url, caFile, messages, errors, gone,
    /** A new browser: the PushSubscription JSON it would hand the page. */
    subscribe(name: string) {
      const b = browserKeys();
      browsers.set(`/push/${name}`, b);
      return { endpoint: `${url}/push/${name}`, keys: { p256dh: b.p256dh, auth: b.authB64 } };
    },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
