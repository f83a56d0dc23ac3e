import type { Phase } from './config.js';

export const PHASES: Phase[] = ['L1', 'L2', 'L3'];
/** Nominal phase voltage for kW caps and chargers that take limits in W. */
export const VOLTS = 230;
const EPS = 1e-6;

/** A circuit's room, per phase in A (after the rest of the building's load and fixed loads), and in W when capped. */
export interface Room { id: string; amps: Record<Phase, number>; watts: number | null }

/** A connector that wants current: the circuits it hangs from and the site phases it loads. */
export interface Demand {
  key: string;
  /** Circuit ids from the root down to its own. */
  path: string[];
  /** Site phases its car draws from (a 1-phase car on a 3-phase charger: one). */
  phases: Phase[];
  /** The most it would take now, A per phase. */
  wish: number;
  /** Higher is served first (staff before visitors). */
  priority: number;
  /** Within a priority, lower keeps charging first when there is not enough for everyone (rotation order). */
  rank: number;
}

/**
 * Max-min fair shares (progressive filling): every connector's current
 * rises together until it has what it wishes or a circuit on its path is
 * full on one of its phases (or in W); the rest keep rising.
 */
function fill(rooms: Map<string, Room>, demands: Demand[]): Map<string, number> {
  const alloc = new Map<string, number>(demands.map((d) => [d.key, 0]));
  const usedA = new Map<string, Record<Phase, number>>();
  const usedW = new Map<string, number>();
  for (const r of rooms.values()) { usedA.set(r.id, { L1: 0, L2: 0, L3: 0 }); usedW.set(r.id, 0); }
  let open = demands.filter((d) => d.wish > EPS);
  // Each round freezes at least one connector, so this ends after at most demands.length rounds.
  while (open.length) {
    const users = new Map<string, number>();
    const wattsPerAmp = new Map<string, number>();
    for (const d of open) {
      for (const c of d.path) {
        for (const p of d.phases) users.set(`${c}/${p}`, (users.get(`${c}/${p}`) ?? 0) + 1);
        wattsPerAmp.set(c, (wattsPerAmp.get(c) ?? 0) + VOLTS * d.phases.length);
      }
    }
    let step = Infinity;
    for (const d of open) step = Math.min(step, d.wish - alloc.get(d.key)!);
    for (const [cp, n] of users) {
      const [c, p] = cp.split('/') as [string, Phase];
      step = Math.min(step, (rooms.get(c)!.amps[p] - usedA.get(c)![p]) / n);
    }
    for (const [c, w] of wattsPerAmp) {
      const room = rooms.get(c)!;
      if (room.watts !== null) step = Math.min(step, (room.watts - usedW.get(c)!) / w);
    }
    step = Math.max(0, step);
    for (const d of open) {
      alloc.set(d.key, alloc.get(d.key)! + step);
      for (const c of d.path) {
        for (const p of d.phases) usedA.get(c)![p] += step;
        usedW.set(c, usedW.get(c)! + step * VOLTS * d.phases.length);
      }
    }
    const full = (d: Demand) => d.wish - alloc.get(d.key)! <= EPS || d.path.some((c) => {
      const room = rooms.get(c)!;
      return d.phases.some((p) => room.amps[p] - usedA.get(c)![p] <= EPS) || (room.watts !== null && room.watts - usedW.get(c)! <= EPS);
    });
    const before = open.length;
    open = open.filter((d) => !full(d));
    if (open.length === before) break; // numerically stuck: nothing more to give
  }
  return alloc;
}

/** Room left after some connectors took their shares. */
function less(rooms: Map<string, Room>, demands: Demand[], alloc: Map<string, number>): Map<string, Room> {
  const out = new Map<string, Room>();
  for (const r of rooms.values()) out.set(r.id, { id: r.id, amps: { ...r.amps }, watts: r.watts });
  for (const d of demands) {
    const a = alloc.get(d.key) ?? 0;
    for (const c of d.path) {
      const r = out.get(c)!;
      for (const p of d.phases) r.amps[p] -= a;
      if (r.watts !== null) r.watts -= a * VOLTS * d.phases.length;
    }
  }
  return out;
}

/**
 * Shares per connector in A per phase: max-min fair within each priority;
 * a share below `minCurrent` is no share at all, so when there is not
 * enough for everyone, connectors are paused (0 A) from the end of the
 * priority/rank order until every one left gets at least `minCurrent`.
 */
export function allocate(rooms: Room[], demands: Demand[], minCurrent: number): Map<string, number> {
  let left = new Map(rooms.map((r) => [r.id, r]));
  // A car that wishes less than the minimum is still offered the minimum: below it, most cars stop.
  const wants = demands.map((d) => ({ ...d, wish: Math.max(d.wish, minCurrent) }));
  const alloc = new Map<string, number>();
  // Higher priorities take their fair shares first; what they leave is shared by the next.
  for (const level of [...new Set(wants.map((d) => d.priority))].sort((a, b) => b - a)) {
    let group = wants.filter((d) => d.priority === level);
    let got = fill(left, group);
    if (!group.every((d) => got.get(d.key)! >= minCurrent - EPS)) {
      group = admit(left, group, minCurrent);
      got = fill(left, group);
    }
    for (const [k, v] of got) alloc.set(k, v);
    left = less(left, group, got);
  }
  const out = new Map<string, number>();
  for (const d of demands) out.set(d.key, Math.floor((alloc.get(d.key) ?? 0) * 10 + EPS) / 10);
  return out;
}

/**
 * The cars that can all have minCurrent, admitted in rank order. Every car at
 * exactly minCurrent fits iff each circuit's phases (and W) hold that many,
 * and the fair shares of a set that fits are then all at least minCurrent
 * (max-min fairness maximises the smallest share).
 */
function admit(rooms: Map<string, Room>, group: Demand[], minCurrent: number): Demand[] {
  const left = new Map([...rooms].map(([id, r]) => [id, { amps: { ...r.amps }, watts: r.watts }]));
  const kept: Demand[] = [];
  for (const d of [...group].sort((a, b) => a.rank - b.rank)) {
    const fits = d.path.every((c) => {
      const r = left.get(c)!;
      return d.phases.every((p) => r.amps[p] >= minCurrent - EPS) && (r.watts === null || r.watts >= minCurrent * VOLTS * d.phases.length - EPS);
    });
    if (!fits) continue;
    kept.push(d);
    for (const c of d.path) {
      const r = left.get(c)!;
      for (const p of d.phases) r.amps[p] -= minCurrent;
      if (r.watts !== null) r.watts -= minCurrent * VOLTS * d.phases.length;
    }
  }
  return kept;
}
