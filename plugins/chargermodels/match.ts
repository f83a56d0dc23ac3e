import type { FirmwareMatcher } from './catalogue.js';

/** Longer than any name OCPP 1.6 lets a charger send (vendor and model 20, firmware 50): never matched. */
export const MAX_MATCHED_LENGTH = 100;

/**
 * ASCII-only lower case: a charger's name is compared letter by letter, so a look-alike
 * (the Kelvin sign, which toLowerCase() turns into "k") does not pass for a catalogued vendor.
 */
const fold = (s: string) => s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));

const normal = (s: string) => fold(s.replace(/^[ \t]+|[ \t]+$/g, ''));

/** Characters of a pattern other than `*`: how specific it is. */
export const literalLength = (pattern: string): number => pattern.replace(/\*/g, '').length;

/**
 * Whether a name a charger sent matches a catalogue pattern: the same characters in any (ASCII)
 * case, `*` in the pattern standing for any run of characters; surrounding blanks are ignored.
 * The charger's text is never a pattern itself, and no regular expression is built from either.
 */
export function patternMatches(pattern: string, value: string): boolean {
  if (value.length > MAX_MATCHED_LENGTH) return false;
  const p = normal(pattern);
  const v = normal(value);
  // Greedy wildcard match with one backtrack point: at most |p|·|v| steps, both bounded.
  let pi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  while (vi < v.length) {
    if (pi < p.length && p[pi] !== '*' && p[pi] === v[vi]) {
      pi++;
      vi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = vi;
    } else if (star >= 0) {
      pi = star + 1;
      vi = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** The first dotted number in a firmware string ("R1.4.7-beta" → [1, 4, 7]), or null. */
export function versionOf(text: string): number[] | null {
  const m = /\d{1,9}(?:\.\d{1,9}){0,7}/.exec(text.slice(0, MAX_MATCHED_LENGTH));
  return m ? m[0].split('.').map(Number) : null;
}

/** Negative, zero or positive as a is older than, equal to or newer than b (missing parts are 0). */
export function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Whether a charger's firmware is in a pattern or range; an unknown firmware is in none. */
export function firmwareMatches(m: FirmwareMatcher, firmwareVersion: string | null): boolean {
  if (firmwareVersion === null || firmwareVersion.length > MAX_MATCHED_LENGTH) return false;
  if (typeof m === 'string') return patternMatches(m, firmwareVersion);
  const v = versionOf(firmwareVersion);
  if (!v) return false;
  if (m.from !== undefined && compareVersions(v, m.from.split('.').map(Number)) < 0) return false;
  if (m.below !== undefined && compareVersions(v, m.below.split('.').map(Number)) >= 0) return false;
  return true;
}
