/**
 * Money and prices as BigInt micro-units (1e-6 of the currency): "0.30" is
 * 300000n. No binary floating point ever touches an amount; rounding is
 * explicit and half-up (away from zero), the way a treasurer checks by hand.
 */
export type Micro = bigint;

/** Micro-units per unit. */
export const MICRO = 1_000_000n;
/** Most decimal places a price may have. */
export const MAX_PLACES = 6;

const DECIMAL_RE = /^(-)?(\d+)(?:\.(\d+))?$/;

/** "0.30" → 300000n; throws on more than six decimal places or anything that is not a plain decimal. */
export function parseDecimal(text: string): Micro {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) throw new RangeError(`not a decimal number: "${text}"`);
  const frac = m[3] ?? '';
  if (frac.length > MAX_PLACES) throw new RangeError(`more than ${MAX_PLACES} decimal places: "${text}"`);
  const value = BigInt(m[2]!) * MICRO + BigInt(frac.padEnd(MAX_PLACES, '0'));
  return m[1] ? -value : value;
}

/**
 * A JSON number as micro-units. JSON numbers arrive as doubles; the shortest
 * decimal that prints as the same double is what the sender wrote (0.3 → "0.3").
 */
export function fromNumber(n: number): Micro {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  const fixed = n.toFixed(MAX_PLACES);
  if (Number(fixed) !== n) throw new RangeError(`more than ${MAX_PLACES} decimal places: ${n}`);
  return parseDecimal(fixed);
}

/** n / d rounded half away from zero. */
export function divRound(n: bigint, d: bigint): bigint {
  if (d === 0n) throw new RangeError('division by zero');
  const negative = (n < 0n) !== (d < 0n);
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  const q = (an * 2n + ad) / (ad * 2n);
  return negative ? -q : q;
}

/** The size of one minor unit in micro-units: 2 digits → 10000n. */
export function unitOf(digits: number): Micro {
  if (!Number.isInteger(digits) || digits < 0 || digits > MAX_PLACES) throw new RangeError(`bad number of digits: ${digits}`);
  return 10n ** BigInt(MAX_PLACES - digits);
}

/** Rounds half-up to `digits` decimal places (the currency's minor unit). */
export function roundTo(m: Micro, digits: number): Micro {
  const unit = unitOf(digits);
  return divRound(m, unit) * unit;
}

/** Rounds half-up to `digits` places and prints exactly that many: (4703500n, 2) → "4.70". */
export function formatDecimal(m: Micro, digits: number): string {
  const rounded = roundTo(m, digits);
  const negative = rounded < 0n;
  const abs = negative ? -rounded : rounded;
  const whole = abs / MICRO;
  const frac = (abs % MICRO).toString().padStart(MAX_PLACES, '0').slice(0, digits);
  return `${negative ? '-' : ''}${whole}${digits ? `.${frac}` : ''}`;
}

/** Prints at least `minDigits` places and no trailing zeros beyond them: (345000n, 2) → "0.345", (1000000n, 2) → "1.00". */
export function formatTrimmed(m: Micro, minDigits = 0): string {
  const full = formatDecimal(m, MAX_PLACES);
  const [whole, frac = ''] = full.split('.');
  let keep = frac.replace(/0+$/, '');
  if (keep.length < minDigits) keep = keep.padEnd(minDigits, '0');
  return keep ? `${whole}.${keep}` : whole!;
}

/** For API output of prices: the exact decimal as a JSON number (prices have at most six places, so it round-trips). */
export function toNumber(m: Micro): number {
  return Number(formatTrimmed(m));
}
