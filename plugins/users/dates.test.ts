import { describe, expect, it } from 'vitest';
import { parseExpiry } from './dates.js';

describe('expiry dates as operators write them', () => {
  it('reads a date alone as the end of that day in the site time zone, in summer and winter', () => {
    expect(parseExpiry('2030-06-30', 'Europe/Berlin')).toBe('2030-06-30T21:59:59.000Z');
    expect(parseExpiry('2030-12-31', 'Europe/Berlin')).toBe('2030-12-31T22:59:59.000Z');
    expect(parseExpiry('2030-12-31', 'America/New_York')).toBe('2031-01-01T04:59:59.000Z');
  });

  it('keeps an explicit offset and reads a time without one on the site clock', () => {
    expect(parseExpiry('2030-01-02T03:04:05Z', 'Europe/Berlin')).toBe('2030-01-02T03:04:05.000Z');
    expect(parseExpiry('2030-01-02T03:04:05+02:00', 'UTC')).toBe('2030-01-02T01:04:05.000Z');
    expect(parseExpiry('2030-07-01T12:00', 'Europe/Berlin')).toBe('2030-07-01T10:00:00.000Z');
  });

  it('refuses dates that do not exist or do not parse', () => {
    for (const bad of ['2030-02-30', '2030-13-01', '31.12.2030', 'tomorrow', '2030-01-01T25:00', '']) {
      expect(parseExpiry(bad, 'UTC'), bad).toBeNull();
    }
  });
});
