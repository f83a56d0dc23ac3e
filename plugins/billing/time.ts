import { dateFormat } from '../../core/clock.js';

/** Wall-clock time in the site's time zone, for time-of-use windows and monthly periods. */

export const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
export type Day = (typeof DAYS)[number];

/** A moment as the site's clocks show it. */
export interface LocalTime {
  year: number;
  /** 1-12. */
  month: number;
  day: number;
  /** 0 = Monday … 6 = Sunday. */
  weekday: number;
  /** Minutes since local midnight, 0-1439. */
  minute: number;
  second: number;
}

function formatFor(tz: string): Intl.DateTimeFormat {
  return dateFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', weekday: 'short',
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

const QUARTER_HOUR = 900_000;
// Offsets by zone and UTC quarter hour; bounded, as a year of them for one zone is 35,040 entries.
const offsets = new Map<string, number>();

/** The offset read from the formatter: exact, but a formatToParts call (~10 µs) each. */
function formattedOffset(ms: number, tz: string): number {
  const parts: Record<string, string> = {};
  for (const p of formatFor(tz).formatToParts(new Date(ms))) parts[p.type] = p.value;
  return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second)) - ms;
}

/**
 * How far the zone's clocks are ahead of UTC at that moment, in ms. Offsets are whole quarter hours and
 * change on a quarter hour of UTC (as every zone has since the 1970s), so one lookup serves a quarter hour:
 * a month's export formats thousands of times with a few hundred lookups.
 */
export function offsetAt(ms: number, tz: string): number {
  const slot = Math.floor(ms / QUARTER_HOUR);
  const key = `${tz}|${slot}`;
  let off = offsets.get(key);
  if (off === undefined) {
    if (offsets.size >= 100_000) offsets.clear();
    off = formattedOffset(slot * QUARTER_HOUR, tz);
    offsets.set(key, off);
  }
  return off;
}

export function localTime(ms: number, tz: string): LocalTime {
  const d = new Date(ms + offsetAt(ms, tz));
  return {
    year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(),
    // getUTCDay counts from Sunday; LocalTime from Monday.
    weekday: (d.getUTCDay() + 6) % 7,
    minute: d.getUTCHours() * 60 + d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

/**
 * The UTC instant of a local date and minute of day (1440 = next midnight).
 * In a DST gap the time is read with the offset before the change, so 02:30
 * on a spring-forward night is 03:30; in the repeated autumn hour the first
 * occurrence wins.
 */
export function localToUtc(year: number, month: number, day: number, minute: number, tz: string): number {
  const guess = Date.UTC(year, month - 1, day, 0, minute);
  // Offsets never change twice within two days: the ones a day either side are the only candidates.
  const before = offsetAt(guess - 86_400_000, tz);
  const after = offsetAt(guess + 86_400_000, tz);
  const valid = [guess - before, guess - after].filter((utc, i) => offsetAt(utc, tz) === (i === 0 ? before : after));
  return valid.length ? Math.min(...valid) : guess - before;
}

/** The calendar date n days after a date (handles month and year ends). */
export function addDays(year: number, month: number, day: number, n: number): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(year, month - 1, day + n));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** "2026-03" → the UTC instants of local midnight on the 1st and on the 1st of the next month. */
export function monthRange(period: string, tz: string): { fromMs: number; toMs: number } {
  const [y, m] = period.split('-').map(Number) as [number, number];
  return { fromMs: localToUtc(y, m, 1, 0, tz), toMs: localToUtc(m === 12 ? y + 1 : y, m === 12 ? 1 : m + 1, 1, 0, tz) };
}

/** The local month ("2026-03") a moment falls in. */
export function periodOf(ms: number, tz: string): string {
  const l = localTime(ms, tz);
  return `${l.year}-${String(l.month).padStart(2, '0')}`;
}

/** ISO 8601 with the site's offset, e.g. 2026-03-10T09:00:00+01:00: what a treasurer reads on a statement. */
export function isoLocal(ms: number, tz: string): string {
  const l = localTime(ms, tz);
  const off = Math.round(offsetAt(ms, tz) / 60_000);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${l.year}-${p2(l.month)}-${p2(l.day)}T${p2(Math.floor(l.minute / 60))}:${p2(l.minute % 60)}:${p2(l.second)}`
    + `${sign}${p2(Math.floor(abs / 60))}:${p2(abs % 60)}`;
}

/** "06:30" → 390; "24:00" → 1440. */
export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/** 390 → "06:30". */
export function hhmmOf(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}
