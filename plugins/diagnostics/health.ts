import type { Knex } from 'knex';
import type { ChargerHistory } from '../../core/history.js';
import type { ChargerRecord } from '../../core/services.js';
import {
  availabilityPct, faultCount, mtbfHours, segments, stateSeconds,
  type LinkChange, type StateSeconds, type StatusChange, type TimelineInput,
} from './timeline.js';

const DAY = 86_400_000;

/** A row of diagnostics_runs: one start of the appliance and its last sign of life. */
interface RunRow { id: number; started_at: string; alive_at: string | null }

/** Health numbers of one charger (or connector) as GET /api/diagnostics/health lists them. */
export interface HealthNumbers {
  availabilityPct24h: number | null;
  availabilityPct7d: number | null;
  availabilityPct30d: number | null;
  faultCount30d: number;
  /** Up-time per fault over 30 days, hours; null without faults. */
  mtbfHours: number | null;
  stateSeconds24h: StateSeconds;
  stateSeconds7d: StateSeconds;
  stateSeconds30d: StateSeconds;
}

export interface ChargerHealth extends HealthNumbers {
  chargerId: string;
  name: string | null;
  online: boolean;
  registeredAt: string;
  connectors: Array<HealthNumbers & { connectorId: number }>;
}

/** Loads what the timeline needs for one charger since fromMs: the changes inside, plus the last one before each. */
export async function loadTimeline(db: Knex, history: ChargerHistory, charger: { id: string; registered_at: string }, fromMs: number): Promise<TimelineInput> {
  const fromIso = new Date(fromMs).toISOString();
  const statuses: StatusChange[] = (await history.statusesSince(charger.id, fromIso))
    .map((r) => ({ atMs: Date.parse(r.at), connectorId: r.connectorId, status: r.status }));
  const links: LinkChange[] = (await history.linksSince(charger.id, fromIso)).map((r) => ({ atMs: Date.parse(r.at), online: r.online }));
  // Each start of the appliance closed every socket, even when the shutdown could not record it (power cut);
  // they were closed, at the latest, when the run before it was last known alive.
  const runs = await db<RunRow>('diagnostics_runs').orderBy('started_at').select('started_at', 'alive_at');
  for (let i = 0; i < runs.length; i++) {
    const startedMs = Date.parse(runs[i]!.started_at);
    if (startedMs < Date.parse(charger.registered_at)) continue;
    links.push({ atMs: startedMs, online: false });
    const lastAlive = runs[i - 1]?.alive_at;
    if (lastAlive) links.push({ atMs: Date.parse(lastAlive), online: false });
  }
  return { statuses, links, registeredAtMs: Date.parse(charger.registered_at) };
}

function numbers(input: TimelineInput, nowMs: number, connectorId?: number): HealthNumbers {
  const sec = (days: number) => stateSeconds(segments(input, nowMs - days * DAY, nowMs, connectorId));
  const s24 = sec(1);
  const s7 = sec(7);
  const s30 = sec(30);
  const faults = faultCount(input, nowMs - 30 * DAY, nowMs, connectorId);
  return {
    availabilityPct24h: availabilityPct(s24), availabilityPct7d: availabilityPct(s7), availabilityPct30d: availabilityPct(s30),
    faultCount30d: faults, mtbfHours: mtbfHours(s30, faults), stateSeconds24h: s24, stateSeconds7d: s7, stateSeconds30d: s30,
  };
}

/** Least healthy first: lowest 24 h availability, then 30 d, then most faults; chargers without data last. */
export function byHealth(a: ChargerHealth, b: ChargerHealth): number {
  const pct = (v: number | null) => (v === null ? 101 : v);
  return pct(a.availabilityPct24h) - pct(b.availabilityPct24h)
    || pct(a.availabilityPct30d) - pct(b.availabilityPct30d)
    || b.faultCount30d - a.faultCount30d
    || a.chargerId.localeCompare(b.chargerId);
}

export async function chargerHealth(db: Knex, history: ChargerHistory, charger: ChargerRecord, nowMs: number, online: boolean): Promise<{ health: ChargerHealth; input: TimelineInput }> {
  const input = await loadTimeline(db, history, { id: charger.id, registered_at: charger.registeredAt }, nowMs - 30 * DAY);
  const connectorIds = [...new Set(input.statuses.map((s) => s.connectorId).filter((id) => id > 0))].sort((a, b) => a - b);
  return {
    input,
    health: {
      chargerId: charger.id, name: charger.name, online, registeredAt: charger.registeredAt,
      ...numbers(input, nowMs),
      connectors: connectorIds.map((connectorId) => ({ connectorId, ...numbers(input, nowMs, connectorId) })),
    },
  };
}

/** The day-by-day view of one charger for the UI: segments of the last 24 h and 7 d, availability per day for 30 days. */
export function history(input: TimelineInput, nowMs: number) {
  const iso = (ms: number) => new Date(ms).toISOString();
  // Sub-second slivers (a socket opening a few ms after registration) only clutter a chart.
  const seg = (fromMs: number) => segments(input, fromMs, nowMs).filter((s) => s.toMs - s.fromMs >= 1000)
    .map((s) => ({ from: iso(s.fromMs), to: iso(s.toMs), state: s.state }));
  const daily = [];
  for (let i = 29; i >= 0; i -= 1) {
    const to = nowMs - i * DAY;
    const sec = stateSeconds(segments(input, to - DAY, to));
    daily.push({ from: iso(to - DAY), to: iso(to), availabilityPct: availabilityPct(sec), stateSeconds: sec });
  }
  return { segments24h: seg(nowMs - DAY), segments7d: seg(nowMs - 7 * DAY), daily };
}

/** Availability of a charger and each connector over any period, as GET /api/diagnostics/availability/{id} gives it. */
export interface Availability {
  chargerId: string;
  from: string;
  to: string;
  availabilityPct: number | null;
  stateSeconds: StateSeconds;
  faultCount: number;
  /** Up-time per fault over the period, hours; null without faults. */
  mtbfHours: number | null;
  connectors: Array<{ connectorId: number; availabilityPct: number | null; stateSeconds: StateSeconds; faultCount: number; mtbfHours: number | null }>;
}

export async function availabilityBetween(db: Knex, history: ChargerHistory, charger: ChargerRecord, fromMs: number, toMs: number): Promise<Availability> {
  const input = await loadTimeline(db, history, { id: charger.id, registered_at: charger.registeredAt }, fromMs);
  const of = (connectorId?: number) => {
    const sec = stateSeconds(segments(input, fromMs, toMs, connectorId));
    const faults = faultCount(input, fromMs, toMs, connectorId);
    return { availabilityPct: availabilityPct(sec), stateSeconds: sec, faultCount: faults, mtbfHours: mtbfHours(sec, faults) };
  };
  const connectorIds = [...new Set(input.statuses.map((s) => s.connectorId).filter((id) => id > 0))].sort((a, b) => a - b);
  return {
    chargerId: charger.id, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(),
    ...of(), connectors: connectorIds.map((connectorId) => ({ connectorId, ...of(connectorId) })),
  };
}
