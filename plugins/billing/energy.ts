import { divRound } from './decimal.js';

/** A point of a session's energy curve: time and register reading in milli-Wh (exact integers). */
export interface CurvePoint { ms: number; mWh: bigint }

/** A reading as stored in meter_values (SI units). */
export interface Reading { ms: number; value: number }

export const toMilliWh = (wh: number): bigint => BigInt(Math.round(wh * 1000));

/**
 * The session's energy register over time: the start reading, the samples
 * in between, the stop reading. The register only rises, and the session's
 * total is meterStop - meterStart: a sample that goes backwards or past
 * the stop reading is clamped, so samples only decide *when* the energy was
 * drawn, never how much in total.
 */
export function energyCurve(startMs: number, startWh: number, stopMs: number, stopWh: number, samples: Reading[]): CurvePoint[] {
  const start = toMilliWh(startWh);
  const stop = toMilliWh(Math.max(startWh, stopWh));
  const points: CurvePoint[] = [{ ms: startMs, mWh: start }];
  const inside = [...samples].filter((s) => s.ms > startMs && s.ms < stopMs).sort((a, b) => a.ms - b.ms);
  // Some chargers count the register from 0 each session while meterStart is absolute: an absolute
  // register cannot read below meterStart, so readings that all do are taken as counted from it.
  const offset = startWh > 0 && inside.length > 0 && inside.every((s) => s.value < startWh) ? start : 0n;
  for (const s of inside) {
    const prev = points[points.length - 1]!;
    let v = toMilliWh(s.value) + offset;
    if (v < prev.mWh) v = prev.mWh;
    if (v > stop) v = stop;
    if (s.ms === prev.ms) prev.mWh = v;
    else points.push({ ms: s.ms, mWh: v });
  }
  points.push({ ms: Math.max(stopMs, startMs), mWh: stop });
  return points;
}

/** The register at a moment, interpolated linearly between the two points around it. */
export function energyAt(points: CurvePoint[], ms: number): bigint {
  const first = points[0]!;
  const last = points[points.length - 1]!;
  if (ms <= first.ms) return first.mWh;
  if (ms >= last.ms) return last.mWh;
  for (let i = 1; i < points.length; i++) {
    const b = points[i]!;
    if (ms > b.ms) continue;
    const a = points[i - 1]!;
    if (ms === b.ms) return b.mWh;
    return a.mWh + divRound((b.mWh - a.mWh) * BigInt(ms - a.ms), BigInt(b.ms - a.ms));
  }
  return last.mWh;
}

/** Energy drawn in [fromMs, toMs), milli-Wh. Segments that tile a session sum to its exact total. */
export const energyBetween = (points: CurvePoint[], fromMs: number, toMs: number): bigint =>
  energyAt(points, toMs) - energyAt(points, fromMs);

export type Interval = [number, number];

/**
 * When the car was drawing power, as intervals inside [startMs, stopMs).
 * From a power sample on, its reading says charging (above thresholdW) or not
 * until the next one; before the first power sample (or without any) the
 * slope of the energy curve decides.
 */
export function chargingIntervals(points: CurvePoint[], power: Reading[], startMs: number, stopMs: number, thresholdW: number): Interval[] {
  const inside = power.filter((p) => p.ms >= startMs && p.ms < stopMs).sort((a, b) => a.ms - b.ms);
  const cuts = [...new Set([startMs, stopMs, ...points.map((p) => p.ms), ...inside.map((p) => p.ms)])]
    .filter((ms) => ms >= startMs && ms <= stopMs)
    .sort((a, b) => a - b);
  const out: Interval[] = [];
  let powerIdx = -1;
  for (let i = 0; i + 1 < cuts.length; i++) {
    const a = cuts[i]!;
    const b = cuts[i + 1]!;
    while (powerIdx + 1 < inside.length && inside[powerIdx + 1]!.ms <= a) powerIdx++;
    let charging: boolean;
    if (powerIdx >= 0) charging = inside[powerIdx]!.value > thresholdW;
    else {
      // Average power over the piece: mWh * 3600 / ms = W.
      const mWh = Number(energyBetween(points, a, b));
      charging = mWh * 3600 > thresholdW * (b - a);
    }
    if (!charging) continue;
    const prev = out[out.length - 1];
    if (prev && prev[1] === a) prev[1] = b;
    else out.push([a, b]);
  }
  return out;
}

/** The parts of [startMs, stopMs) not covered by the (sorted, disjoint) intervals. */
export function complement(intervals: Interval[], startMs: number, stopMs: number): Interval[] {
  const out: Interval[] = [];
  let at = startMs;
  for (const [a, b] of intervals) {
    if (a > at) out.push([at, a]);
    at = Math.max(at, b);
  }
  if (at < stopMs) out.push([at, stopMs]);
  return out;
}

/** Length in ms of the overlap of intervals with [fromMs, toMs). */
export function overlapMs(intervals: Interval[], fromMs: number, toMs: number): number {
  let sum = 0;
  for (const [a, b] of intervals) sum += Math.max(0, Math.min(b, toMs) - Math.max(a, fromMs));
  return sum;
}
