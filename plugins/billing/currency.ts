import { formatTrimmed, type Micro } from './decimal.js';

// Intl.NumberFormat accepts any three letters; only this list says which codes are real ISO 4217 currencies.
const KNOWN = new Set(Intl.supportedValuesOf('currency'));

/** Whether the code is an ISO 4217 currency this runtime knows. */
export const isCurrency = (code: string): boolean => KNOWN.has(code);

const minorDigitsCache = new Map<string, number>();

/** Decimal places of the currency's minor unit (EUR 2, JPY 0, BHD 3), as Intl.NumberFormat states it. */
export function minorDigits(currency: string): number {
  let digits = minorDigitsCache.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    // Bounded: only codes the runtime knows get here from tariffs, and a month's totals ask thousands of times.
    if (minorDigitsCache.size < 500) minorDigitsCache.set(currency, digits);
  }
  return digits;
}

/** The narrow symbol ("€", "$"), or the code when the currency has none. */
export function symbolOf(currency: string): string {
  const part = new Intl.NumberFormat('en', { style: 'currency', currency, currencyDisplay: 'narrowSymbol' })
    .formatToParts(0).find((p) => p.type === 'currency');
  return part?.value ?? currency;
}

/** "0.35 €": a price with at least the minor unit's places, more when the price has them. */
export function showPrice(m: Micro, currency: string): string {
  return `${formatTrimmed(m, minorDigits(currency))} ${symbolOf(currency)}`;
}
