import { describe, expect, it } from 'vitest';
import { divRound, formatDecimal, formatTrimmed, fromNumber, parseDecimal, roundTo, toNumber } from './decimal.js';

describe('the decimal helper', () => {
  it('reads decimal strings and JSON numbers into exact micro-units', () => {
    expect(parseDecimal('0.30')).toBe(300_000n);
    expect(parseDecimal('12')).toBe(12_000_000n);
    expect(parseDecimal('-1.5')).toBe(-1_500_000n);
    expect(parseDecimal('0.000001')).toBe(1n);
    expect(fromNumber(0.3)).toBe(300_000n);
    // 0.1 + 0.2 is 0.30000000000000004 as a double; the sender meant no such price, so it is refused, not rounded.
    expect(() => fromNumber(0.1 + 0.2)).toThrow(/decimal places/);
    expect(fromNumber(12.345)).toBe(12_345_000n);
  });

  it('refuses more than six decimal places and anything that is not a plain decimal', () => {
    expect(() => parseDecimal('0.0000001')).toThrow(/decimal places/);
    expect(() => parseDecimal('1e3')).toThrow(/not a decimal/);
    expect(() => parseDecimal('')).toThrow(/not a decimal/);
    expect(() => fromNumber(Number.NaN)).toThrow();
  });

  it('rounds half-up (away from zero) to the minor unit', () => {
    expect(formatDecimal(4_703_500n, 2)).toBe('4.70');
    expect(formatDecimal(4_705_000n, 2)).toBe('4.71');
    expect(formatDecimal(4_704_999n, 2)).toBe('4.70');
    expect(formatDecimal(-4_705_000n, 2)).toBe('-4.71');
    expect(formatDecimal(1_500_000n, 0)).toBe('2');
    expect(formatDecimal(1_234_500n, 3)).toBe('1.235');
    expect(roundTo(2_345n, 2)).toBe(0n);
    expect(divRound(5n, 2n)).toBe(3n);
    expect(divRound(-5n, 2n)).toBe(-3n);
    expect(divRound(7n, 3n)).toBe(2n);
  });

  it('prints prices with the minor unit and no needless trailing zeros', () => {
    expect(formatTrimmed(350_000n, 2)).toBe('0.35');
    expect(formatTrimmed(345_000n, 2)).toBe('0.345');
    expect(formatTrimmed(1_000_000n, 2)).toBe('1.00');
    expect(formatTrimmed(1_000_000n)).toBe('1');
    expect(toNumber(300_000n)).toBe(0.3);
  });

  it('adds 0.1 and 0.2 to exactly 0.3, unlike binary floating point', () => {
    expect(parseDecimal('0.1') + parseDecimal('0.2')).toBe(parseDecimal('0.3'));
  });
});
