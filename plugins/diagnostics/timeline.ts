/** The five states a charger or connector is counted in. */
export type HealthState = 'available' | 'charging' | 'faulted' | 'offline' | 'unavailable';

export const HEALTH_STATES: HealthState[] = ['available', 'charging', 'faulted', 'offline', 'unavailable'];

/** A StatusNotification: connector 0 speaks for the whole charger. */
export interface StatusChange { atMs: number; connectorId: number; status: string }
/** A socket opening (online) or closing (offline); an appliance start counts as closing every socket. */
export interface LinkChange { atMs: number; online: boolean }

export interface TimelineInput {
  statuses: StatusChange[];
  links: LinkChange[];
  /** When the charger became known; time before it is not counted. */
  registeredAtMs: number;
}

export interface Segment { fromMs: number; toMs: number; state: HealthState }

export type StateSeconds = Record<HealthState, number>;

// Worst first: a charger is in the worst state of its connectors.
const RANK: Record<HealthState, number> = { offline: 5, faulted: 4, unavailable: 3, charging: 2, available: 1 };

/** OCPP status → counted state; occupied states (Preparing … Finishing, Reserved) count as charging. */
export function stateOf(status: string | undefined): HealthState {
  switch (status) {
    case 'Faulted': return 'faulted';
    case 'Unavailable': return 'unavailable';
    case 'Preparing': case 'Charging': case 'SuspendedEV': case 'SuspendedEVSE': case 'Finishing': case 'Reserved':
      return 'charging';
    default: return 'available';
  }
}

interface Snapshot { online: boolean; statuses: Map<number, string> }

/** State of one connector (or of the charger when connectorId is undefined) given a snapshot. */
function stateAt(s: Snapshot, connectorId: number | undefined): HealthState {
  if (!s.online) return 'offline';
  const whole = stateOf(s.statuses.get(0));
  const connector = (id: number): HealthState => {
    const own = stateOf(s.statuses.get(id));
    // Connector 0 Faulted/Unavailable takes every connector with it.
    return RANK[whole] > RANK[own] && (whole === 'faulted' || whole === 'unavailable') ? whole : own;
  };
  if (connectorId !== undefined) return connector(connectorId);
  const ids = [...s.statuses.keys()].filter((id) => id > 0);
  if (!ids.length) return s.statuses.has(0) ? whole : 'available';
  return ids.map(connector).reduce((a, b) => (RANK[b] > RANK[a] ? b : a));
}

type Change = { atMs: number; order: number; apply: (s: Snapshot) => void };

function changes(input: TimelineInput): Change[] {
  const list: Change[] = [
    ...input.links.map((l) => ({ atMs: l.atMs, order: 0, apply: (s: Snapshot) => { s.online = l.online; } })),
    ...input.statuses.map((c) => ({ atMs: c.atMs, order: 1, apply: (s: Snapshot) => { s.statuses.set(c.connectorId, c.status); } })),
  ];
  // At the same instant a connect comes before the statuses sent right after it.
  return list.sort((a, b) => a.atMs - b.atMs || a.order - b.order);
}

/**
 * The states of a charger (or one connector) between fromMs and toMs as
 * consecutive segments. Changes before fromMs set the starting state; time
 * before the charger was registered is left out.
 */
export function segments(input: TimelineInput, fromMs: number, toMs: number, connectorId?: number): Segment[] {
  const start = Math.max(fromMs, input.registeredAtMs);
  if (toMs <= start) return [];
  const snap: Snapshot = { online: false, statuses: new Map() };
  const out: Segment[] = [];
  let cursor = start;
  const push = (until: number) => {
    if (until <= cursor) return;
    const state = stateAt(snap, connectorId);
    const last = out[out.length - 1];
    if (last && last.state === state && last.toMs === cursor) last.toMs = until;
    else out.push({ fromMs: cursor, toMs: until, state });
    cursor = until;
  };
  for (const c of changes(input)) {
    if (c.atMs >= toMs) break;
    if (c.atMs > cursor) push(c.atMs);
    c.apply(snap);
  }
  push(toMs);
  return out;
}

export function stateSeconds(segs: Segment[]): StateSeconds {
  const out: StateSeconds = { available: 0, charging: 0, faulted: 0, offline: 0, unavailable: 0 };
  for (const s of segs) out[s.state] += (s.toMs - s.fromMs) / 1000;
  for (const k of HEALTH_STATES) out[k] = Math.round(out[k]);
  return out;
}

/** Share of counted time a driver could charge (available or charging), in %, 2 decimals; null when nothing was counted. */
export function availabilityPct(sec: StateSeconds): number | null {
  const total = HEALTH_STATES.reduce((sum, k) => sum + sec[k], 0);
  if (total <= 0) return null;
  return Math.round(((sec.available + sec.charging) / total) * 10_000) / 100;
}

/**
 * How many times a connector of the charger entered Faulted between fromMs
 * and toMs. A Faulted repeated while already Faulted (e.g. resent after a
 * reconnect) is the same fault.
 */
export function faultCount(input: TimelineInput, fromMs: number, toMs: number, connectorId?: number): number {
  const last = new Map<number, string>();
  let count = 0;
  for (const c of [...input.statuses].sort((a, b) => a.atMs - b.atMs)) {
    if (c.atMs >= toMs) break;
    if (connectorId !== undefined && c.connectorId !== connectorId && c.connectorId !== 0) continue;
    if (c.status === 'Faulted' && last.get(c.connectorId) !== 'Faulted' && c.atMs >= fromMs) count += 1;
    last.set(c.connectorId, c.status);
  }
  return count;
}

/** Mean time between faults: counted up-time (available + charging) per fault, hours; null without faults. */
export function mtbfHours(sec: StateSeconds, faults: number): number | null {
  if (faults <= 0) return null;
  return Math.round(((sec.available + sec.charging) / 3600 / faults) * 100) / 100;
}
