import { showPrice } from './currency.js';
import { parseDecimal } from './decimal.js';
import type { TariffDef } from './tariff.js';
import { segments } from './tou.js';

/** The prices in force at a moment. */
export interface PricesNow {
  /** The time-of-use window in force (index into timeOfUse), null = base prices. */
  window: number | null;
  pricePerKwh: number;
  pricePerMinute: number;
  sessionFee: number;
  /** When these prices change next (within a week), or null. */
  validUntil: string | null;
}

const WEEK_MS = 7 * 86_400_000;

export function pricesAt(def: TariffDef, atMs: number, tz: string): PricesNow {
  const segs = segments(atMs, atMs + WEEK_MS, def.timeOfUse, tz);
  const first = segs[0]!;
  const w = first.window === null ? null : def.timeOfUse[first.window]!;
  return {
    window: first.window,
    pricePerKwh: Number(w?.pricePerKwh ?? def.pricePerKwh),
    pricePerMinute: Number(w?.pricePerMinute ?? def.pricePerMinute),
    sessionFee: Number(def.sessionFee),
    validUntil: segs.length > 1 ? new Date(first.toMs).toISOString() : null,
  };
}

/** "0.35 €/kWh, 1.00 € per session, 0.10 €/min after 60 min idle": what a driver reads before charging. */
export function priceText(def: TariffDef, now: PricesNow): string {
  const c = def.currency;
  const money = (v: number | string) => showPrice(parseDecimal(String(v)), c);
  const parts: string[] = [];
  if (now.pricePerKwh > 0) parts.push(`${money(now.pricePerKwh)}/kWh`);
  if (now.sessionFee > 0) parts.push(`${money(def.sessionFee)} per session`);
  if (now.pricePerMinute > 0) {
    const p = `${money(now.pricePerMinute)}/min`;
    if (def.timeFeeMode === 'always') parts.push(p);
    else if (def.timeFeeMode === 'charging') parts.push(`${p} while charging`);
    else parts.push(def.graceMinutes > 0 ? `${p} after ${def.graceMinutes} min idle` : `${p} while idle`);
  }
  if (def.minimumAmount !== null && parseDecimal(def.minimumAmount) > 0n) parts.push(`minimum ${money(def.minimumAmount)}`);
  if (def.maximumAmount !== null) parts.push(`at most ${money(def.maximumAmount)} per session`);
  return parts.length ? parts.join(', ') : 'free';
}
