import { describe, expect, it } from 'vitest';
import { nextDayStart } from './stats.js';

const at = (iso: string) => Date.parse(iso);

describe('nextDayStart', () => {
  it('finds the next local midnight of a zone an hour ahead of UTC', () => {
    expect(new Date(nextDayStart(at('2026-01-15T10:00:00Z'), 'Europe/Berlin')).toISOString()).toBe('2026-01-15T23:00:00.000Z');
  });

  it('finds it on the day summer time ends (a 25-hour day)', () => {
    expect(new Date(nextDayStart(at('2026-10-25T00:30:00Z'), 'Europe/Berlin')).toISOString()).toBe('2026-10-25T23:00:00.000Z');
  });

  it('finds it in a zone whose offset is not a whole hour', () => {
    expect(new Date(nextDayStart(at('2026-03-01T12:00:00Z'), 'Asia/Kathmandu')).toISOString()).toBe('2026-03-01T18:15:00.000Z');
  });

  it('counts an instant just before midnight to its own day', () => {
    expect(new Date(nextDayStart(at('2026-01-15T22:59:59.999Z'), 'Europe/Berlin')).toISOString()).toBe('2026-01-15T23:00:00.000Z');
    expect(new Date(nextDayStart(at('2026-01-15T23:00:00Z'), 'Europe/Berlin')).toISOString()).toBe('2026-01-16T23:00:00.000Z');
  });
});
