import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CsrError, createCsr, derToPem, parseCsr, pemToDer } from './x509.js';

const ec = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;

describe('certificate requests', () => {
  it('reads back the names it wrote, in UTF-8 too', () => {
    expect(parseCsr(createCsr({ CN: 'Ladestation-Süd', O: 'Acme' }, ec())).subject).toEqual({ CN: 'Ladestation-Süd', O: 'Acme' });
  });

  it('refuses every cut or altered request with a CsrError, never another error', () => {
    const good = pemToDer(createCsr({ CN: 'CP1' }, ec()), 'CERTIFICATE REQUEST');
    for (let n = 0; n < good.length; n += 7) {
      expect(() => parseCsr(derToPem(good.subarray(0, n), 'CERTIFICATE REQUEST'))).toThrow(CsrError);
    }
    const tampered = Buffer.from(good);
    tampered[good.length - 5]! ^= 0x01;
    expect(() => parseCsr(derToPem(tampered, 'CERTIFICATE REQUEST'))).toThrow(/does not verify|malformed/);
    // Another CN under the same signature.
    const other = Buffer.from(good.toString('latin1').replace('CP1', 'CP2'), 'latin1');
    expect(() => parseCsr(derToPem(other, 'CERTIFICATE REQUEST'))).toThrow('signature does not verify');
    expect(() => parseCsr('hello')).toThrow(CsrError);
  });

  it('refuses weak keys', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(() => parseCsr(createCsr({ CN: 'CP1' }, weak))).toThrow(/2048/);
  });
});
