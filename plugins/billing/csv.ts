/** RFC 4180 output: CRLF line ends, cells quoted when they hold a comma, quote or line break. */

export type Cell = string | number | null | undefined;

// A spreadsheet runs a cell starting with = + - @ as a formula; names and card ids could be crafted to.
const FORMULA = /^[=+\-@\t\r]/;

/** A free-text cell (names, card ids): defused against spreadsheet formulas. */
export const text = (v: string | null | undefined): string => (v && FORMULA.test(v) ? `'${v}` : v ?? '');

function cell(v: Cell): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: Cell[][]): string {
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
