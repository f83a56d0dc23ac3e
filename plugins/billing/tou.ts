import { addDays, DAYS, localTime, localToUtc, minutesOf, type Day, type LocalTime } from './time.js';

/** A time-of-use window: local days and times; `to` <= `from` means it runs past midnight into the next day. */
export interface TouWindow {
  days: Day[];
  /** HH:MM local time, inclusive. */
  from: string;
  /** HH:MM local time, exclusive; "24:00" = end of the day. */
  to: string;
}

/** A stretch of a session with one set of prices: window = index into timeOfUse, null = the tariff's base prices. */
export interface Segment { fromMs: number; toMs: number; window: number | null }

const WEEK = 7 * 1440;

/**
 * Which window covers a local time, or null. A window that crosses midnight
 * belongs to the day it starts on: "Fri 22:00-06:00" covers Saturday 03:00.
 */
export function windowAt(windows: TouWindow[], at: LocalTime): number | null {
  for (let i = 0; i < windows.length; i++) {
    const w = windows[i]!;
    const from = minutesOf(w.from);
    const to = minutesOf(w.to);
    const on = (weekday: number) => w.days.includes(DAYS[(weekday + 7) % 7]!);
    if (from < to) {
      if (on(at.weekday) && at.minute >= from && at.minute < to) return i;
    } else if ((on(at.weekday) && at.minute >= from) || (on(at.weekday - 1) && at.minute < to)) {
      return i;
    }
  }
  return null;
}

/**
 * Cuts [fromMs, toMs) at every local midnight and window edge and labels
 * each piece with the window in force. Pieces in a row with the same window
 * are merged, so a session inside one window is one segment.
 */
export function segments(fromMs: number, toMs: number, windows: TouWindow[], tz: string): Segment[] {
  if (toMs <= fromMs) return [{ fromMs, toMs: fromMs, window: windowAt(windows, localTime(fromMs, tz)) }];
  const edges = new Set<number>();
  if (windows.length) {
    const minutes = new Set<number>([0]);
    for (const w of windows) { minutes.add(minutesOf(w.from)); minutes.add(minutesOf(w.to) % 1440); }
    const first = localTime(fromMs, tz);
    const last = localTime(toMs, tz);
    const lastKey = Date.UTC(last.year, last.month - 1, last.day);
    for (let n = 0; ; n++) {
      const d = addDays(first.year, first.month, first.day, n);
      if (Date.UTC(d.year, d.month - 1, d.day) > lastKey) break;
      for (const m of minutes) {
        const at = localToUtc(d.year, d.month, d.day, m, tz);
        if (at > fromMs && at < toMs) edges.add(at);
      }
    }
  }
  const cuts = [fromMs, ...[...edges].sort((a, b) => a - b), toMs];
  const out: Segment[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const window = windowAt(windows, localTime(cuts[i]!, tz));
    const prev = out[out.length - 1];
    if (prev && prev.window === window) prev.toMs = cuts[i + 1]!;
    else out.push({ fromMs: cuts[i]!, toMs: cuts[i + 1]!, window });
  }
  return out;
}

/** Minute ranges of the week [start, end) a window covers, Monday 00:00 = 0; ranges past Sunday midnight wrap. */
function weekRanges(w: TouWindow): Array<{ start: number; end: number; day: Day }> {
  const from = minutesOf(w.from);
  let to = minutesOf(w.to);
  if (to <= from) to += 1440;
  const out: Array<{ start: number; end: number; day: Day }> = [];
  for (const day of w.days) {
    const start = DAYS.indexOf(day) * 1440 + from;
    const end = DAYS.indexOf(day) * 1440 + to;
    if (end <= WEEK) out.push({ start, end, day });
    else out.push({ start, end: WEEK, day }, { start: 0, end: end - WEEK, day });
  }
  return out;
}

/** Pairs of windows that cover the same minute: each names the later window, the earlier one and the day. */
export function overlaps(windows: TouWindow[]): Array<{ index: number; other: number; day: Day }> {
  const ranges = windows.map(weekRanges);
  const out: Array<{ index: number; other: number; day: Day }> = [];
  for (let j = 1; j < windows.length; j++) {
    found: for (let i = 0; i < j; i++) {
      for (const a of ranges[i]!) {
        for (const b of ranges[j]!) {
          if (a.start < b.end && b.start < a.end) {
            out.push({ index: j, other: i, day: b.day });
            break found;
          }
        }
      }
    }
  }
  return out;
}
