import { dateFormat } from '../../core/clock.js';

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** What a date field accepts, for 400 messages. */
export const DATE_HINT = 'a date like 2026-12-31 or a time like 2026-12-31T18:00:00Z';

/** Milliseconds to add to UTC to get the wall-clock time in a time zone at that instant. */
function zoneOffsetMs(timezone: string, utcMs: number): number {
  const parts = dateFormat('en-US', {
    timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(utcMs / 1000) * 1000;
}

/**
 * Parses an expiry as an operator writes it, into ISO UTC; null when it does
 * not parse. A date alone means the end of that day, and a time without an
 * offset is read in the site's time zone, because that is what a co-op means
 * by "valid until 31 December".
 */
export function parseExpiry(text: string, timezone: string): string | null {
  const m = DATE_RE.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y), month = Number(mo), day = Number(d);
  const hour = h === undefined ? 23 : Number(h);
  const minute = mi === undefined ? 59 : Number(mi);
  const second = s === undefined ? (h === undefined ? 59 : 0) : Number(s);
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  // Date.UTC rolls 30 February over into March; a typo must be refused instead.
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || month > 12 || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (zone) {
    if (zone === 'Z') return new Date(wall).toISOString();
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offH = Number(digits.slice(0, 2)), offM = Number(digits.slice(2, 4));
    if (offH > 14 || offM > 59) return null;
    return new Date(wall - sign * (offH * 60 + offM) * 60_000).toISOString();
  }
  let utc = wall - zoneOffsetMs(timezone, wall);
  utc = wall - zoneOffsetMs(timezone, utc);
  return new Date(utc).toISOString();
}
