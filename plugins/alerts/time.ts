/** Local wall-clock minutes and seconds since midnight in a time zone. */
function localTime(ms: number, timeZone: string): { minutes: number; seconds: number } {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { minutes: get('hour') * 60 + get('minute'), seconds: get('second') };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * When quiet hours (HH:MM..HH:MM in the site's time zone, may wrap midnight)
 * end, if `ms` lies within them; null when it does not.
 */
export function quietUntil(ms: number, quiet: { from: string; to: string } | undefined, timeZone: string): number | null {
  if (!quiet) return null;
  const from = toMinutes(quiet.from);
  const to = toMinutes(quiet.to);
  if (from === to) return null;
  const { minutes, seconds } = localTime(ms, timeZone);
  const inside = from < to ? minutes >= from && minutes < to : minutes >= from || minutes < to;
  if (!inside) return null;
  const left = (to - minutes + 1440) % 1440;
  const end = ms + left * 60_000 - seconds * 1000 - (ms % 1000);
  // A DST change inside the window shifts the wall clock by an hour; still a sensible wake-up time.
  return end > ms ? end : ms + 60_000;
}

/** "24 Nov 2025, 22:05 (Europe/Berlin)" */
export function formatLocal(iso: string, timeZone: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const text = new Intl.DateTimeFormat('en-GB', { timeZone, dateStyle: 'medium', timeStyle: 'short' }).format(d);
  return `${text} (${timeZone})`;
}

/** "3 h 05 min", "12 min", "40 s". */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m) return `${m} min`;
  return `${s} s`;
}
