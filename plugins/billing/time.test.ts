import { describe, expect, it } from 'vitest';
import { isoLocal, localTime, offsetAt } from './time.js';

/** What the zone's clocks show, read straight from Intl, to compare with. */
function shown(ms: number, tz: string) {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return {
    year: Number(p.year), month: Number(p.month), day: Number(p.day),
    weekday: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(p.weekday!),
    minute: Number(p.hour) * 60 + Number(p.minute), second: Number(p.second),
  };
}

describe('local time of the site', () => {
  it('matches the zone\'s clocks at every minute around summer-time changes', () => {
    const cases: Array<[string, string]> = [
      ['Europe/Berlin', '2026-03-29T00:00:00Z'], ['Europe/Berlin', '2026-10-25T00:00:00Z'],
      ['America/New_York', '2026-11-01T05:00:00Z'], ['Australia/Lord_Howe', '2026-04-04T14:00:00Z'],
    ];
    for (const [tz, from] of cases) {
      for (let ms = Date.parse(from); ms < Date.parse(from) + 3 * 3_600_000; ms += 60_000 + 7_000) {
        expect(localTime(ms, tz), `${tz} ${new Date(ms).toISOString()}`).toEqual(shown(ms, tz));
      }
    }
  });

  it('matches the zone\'s clocks at random moments of three years, in zones off the whole hour too', () => {
    let seed = 7;
    const next = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (const tz of ['Europe/Berlin', 'Asia/Kathmandu', 'America/St_Johns', 'UTC']) {
      for (let i = 0; i < 300; i++) {
        const ms = Date.parse('2025-01-01T00:00:00Z') + Math.floor(next() * 3 * 365 * 86_400_000);
        expect(localTime(ms, tz)).toEqual(shown(ms, tz));
      }
    }
  });

  it('writes a time with the offset in force then', () => {
    expect(isoLocal(Date.parse('2026-03-29T00:59:59Z'), 'Europe/Berlin')).toBe('2026-03-29T01:59:59+01:00');
    expect(isoLocal(Date.parse('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toBe('2026-03-29T03:00:00+02:00');
    expect(isoLocal(Date.parse('2026-06-01T12:00:00Z'), 'Asia/Kathmandu')).toBe('2026-06-01T17:45:00+05:45');
    expect(offsetAt(Date.parse('2026-01-10T12:00:00Z'), 'America/St_Johns')).toBe(-3.5 * 3_600_000);
  });
});
