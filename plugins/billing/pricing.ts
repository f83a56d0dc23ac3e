import { divRound, formatDecimal, formatTrimmed, parseDecimal, unitOf, MICRO } from './decimal.js';
import { minorDigits } from './currency.js';
import { chargingIntervals, complement, energyBetween, energyCurve, overlapMs, type Interval, type Reading } from './energy.js';
import type { TariffDef } from './tariff.js';
import { segments } from './tou.js';

/** What a session's price is computed from: its own timestamps and stored readings, never the wall clock. */
export interface SessionData {
  startMs: number;
  stopMs: number;
  meterStartWh: number;
  meterStopWh: number;
  /** Energy.Active.Import.Register readings (Wh). */
  energy: Reading[];
  /** Power.Active.Import readings (W). */
  power: Reading[];
  /** false for a session the charger opened with a refused card: nothing is charged. */
  accepted: boolean;
}

export interface PricingOptions {
  timezone: string;
  /** Below this power the car counts as idle (for timeFeeMode charging / idleAfterGrace). */
  idleBelowW: number;
}

/** One line of a priced session, so every amount can be checked by hand. */
export interface CostLine {
  kind: 'energy' | 'time' | 'fee';
  /** The time-of-use window (index) whose price applied; null = base price. */
  window: number | null;
  from: string | null;
  to: string | null;
  /** kWh, minutes or 1 (session fee). */
  quantity: string;
  unit: 'kWh' | 'min' | 'session';
  price: string;
  /** quantity × price, unrounded (up to six places). */
  amount: string;
}

export interface Breakdown {
  currency: string;
  energyWh: number;
  lines: CostLine[];
  /** Sum of the lines before caps and rounding. */
  subtotal: string;
  /** Which cap changed the subtotal, if any. */
  cap: 'minimum' | 'maximum' | null;
  /** Charged amount: after caps, rounded half-up to the currency's minor unit. */
  amount: string;
  vatPct: string;
  /** VAT share of amount (prices are gross), rounded half-up to the minor unit. */
  vatAmount: string;
  netAmount: string;
  note: string | null;
}

// Exact sums: energy lines are mWh × µ-price / (1e6 mWh per kWh), time lines ms × µ-price / 60 000.
// Scaling every line to the common denominator keeps the total exact until the one final rounding.
const KWH_MWH = 1_000_000n;
const MIN_MS = 60_000n;
const D = KWH_MWH * MIN_MS;

const iso = (ms: number) => new Date(ms).toISOString();

/** The cost of one session under one tariff version. Pure: same inputs, same cents. */
export function priceSession(t: TariffDef, s: SessionData, o: PricingOptions): Breakdown {
  const digits = minorDigits(t.currency);
  const unit = unitOf(digits);
  const stopMs = Math.max(s.stopMs, s.startMs);
  const energyWh = Math.max(0, s.meterStopWh - s.meterStartWh);
  const base = { currency: t.currency, energyWh, vatPct: formatTrimmed(parseDecimal(t.vatPct)) };
  if (!s.accepted) {
    const zero = formatDecimal(0n, digits);
    return { ...base, lines: [], subtotal: '0', cap: null, amount: zero, vatAmount: zero, netAmount: zero, note: 'card refused at start: not charged' };
  }

  const lines: CostLine[] = [];
  let exact = 0n;
  const curve = energyCurve(s.startMs, s.meterStartWh, stopMs, s.meterStopWh, s.energy);
  const segs = segments(s.startMs, stopMs, t.timeOfUse, o.timezone);
  const priceOf = (window: number | null, key: 'pricePerKwh' | 'pricePerMinute') =>
    parseDecimal((window === null ? null : t.timeOfUse[window]![key]) ?? t[key]);

  // Energy, split at time-of-use edges by the interpolated register.
  for (const seg of segs) {
    const price = priceOf(seg.window, 'pricePerKwh');
    const mWh = energyBetween(curve, seg.fromMs, seg.toMs);
    if (mWh === 0n || price === 0n) continue;
    const n = mWh * price * MIN_MS;
    exact += n;
    lines.push({
      kind: 'energy', window: seg.window, from: iso(seg.fromMs), to: iso(seg.toMs),
      quantity: formatTrimmed(mWh), unit: 'kWh', price: formatTrimmed(price), amount: formatTrimmed(divRound(n, D)),
    });
  }

  // Time, by the session's own timestamps and the car's activity in its readings.
  const billable = timeBillable(t, s, curve, stopMs, o.idleBelowW);
  for (const seg of segs) {
    const price = priceOf(seg.window, 'pricePerMinute');
    const ms = overlapMs(billable, seg.fromMs, seg.toMs);
    if (ms === 0 || price === 0n) continue;
    const n = BigInt(ms) * price * KWH_MWH;
    exact += n;
    lines.push({
      kind: 'time', window: seg.window, from: iso(seg.fromMs), to: iso(seg.toMs),
      quantity: formatTrimmed(divRound(BigInt(ms) * MICRO, MIN_MS)), unit: 'min', price: formatTrimmed(price),
      amount: formatTrimmed(divRound(n, D)),
    });
  }

  const fee = parseDecimal(t.sessionFee);
  if (fee > 0n) {
    exact += fee * D;
    lines.push({ kind: 'fee', window: null, from: null, to: null, quantity: '1', unit: 'session', price: formatTrimmed(fee), amount: formatTrimmed(fee) });
  }

  // Caps apply to the exact sum; then one rounding, half-up to the minor unit.
  let capped = exact;
  let cap: Breakdown['cap'] = null;
  if (t.minimumAmount !== null && capped < parseDecimal(t.minimumAmount) * D) { capped = parseDecimal(t.minimumAmount) * D; cap = 'minimum'; }
  if (t.maximumAmount !== null && capped > parseDecimal(t.maximumAmount) * D) { capped = parseDecimal(t.maximumAmount) * D; cap = 'maximum'; }
  const amount = divRound(capped, D * unit) * unit;
  const vatPct = parseDecimal(t.vatPct);
  const vat = divRound(amount * vatPct, (100n * MICRO + vatPct) * unit) * unit;
  return {
    ...base, lines, subtotal: formatTrimmed(divRound(exact, D)), cap,
    amount: formatDecimal(amount, digits), vatAmount: formatDecimal(vat, digits), netAmount: formatDecimal(amount - vat, digits),
    note: null,
  };
}

/** The stretches of the session the time price applies to. */
export function timeBillable(t: TariffDef, s: SessionData, curve: ReturnType<typeof energyCurve>, stopMs: number, idleBelowW: number): Interval[] {
  if (t.timeFeeMode === 'always') return stopMs > s.startMs ? [[s.startMs, stopMs]] : [];
  const charging = chargingIntervals(curve, s.power, s.startMs, stopMs, idleBelowW);
  if (t.timeFeeMode === 'charging') return charging;
  // Each idle stretch is free for the grace period; after that the blocking fee runs.
  const grace = t.graceMinutes * 60_000;
  return complement(charging, s.startMs, stopMs)
    .filter(([a, b]) => b - a > grace)
    .map(([a, b]) => [a + grace, b] as Interval);
}
