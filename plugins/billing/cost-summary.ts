import type { PricedSession } from './costs.js';

/**
 * What a statement line shows of a session's price. Stored as columns beside
 * the priced lines (JSON), so a month's export reads a few short values per
 * session instead of parsing thousands of breakdowns.
 */
export interface CostSummary {
  tariffId: number;
  tariffName: string;
  tariffVersion: number;
  rule: string | null;
  currency: string;
  amount: string;
  vatAmount: string;
  netAmount: string;
  /** How the amount came about, to check by hand: "10 kWh × 0.3 = 3 + fee 1 → 4.00". */
  calculation: string;
}

/** The priced lines in one line of text. */
export function calculationOf(p: PricedSession): string {
  const b = p.breakdown;
  if (b.note) return b.note;
  const parts = b.lines.map((l) => (l.kind === 'fee'
    ? `fee ${l.amount}`
    : `${l.quantity} ${l.unit} × ${l.price}${l.window === null ? '' : ` (window ${l.window + 1})`} = ${l.amount}`));
  const cap = b.cap ? ` (${b.subtotal}, ${b.cap} applies)` : '';
  return `${parts.join(' + ') || '0'}${cap} → ${b.amount}`;
}

export function summaryOf(p: PricedSession): CostSummary {
  const b = p.breakdown;
  return {
    tariffId: p.tariffId, tariffName: p.tariffName, tariffVersion: p.tariffVersion, rule: p.rule,
    currency: b.currency, amount: b.amount, vatAmount: b.vatAmount, netAmount: b.netAmount, calculation: calculationOf(p),
  };
}

/** A billing_costs row as read for statements (snake_case columns). */
export interface CostSummaryRow {
  transaction_id: number; tariff_id: number | null; tariff_name: string | null; tariff_version: number | null; rule: string | null;
  currency: string; amount: string; vat_amount: string; net_amount: string | null; calculation: string | null;
}

export const SUMMARY_COLUMNS = ['transaction_id', 'tariff_id', 'tariff_name', 'tariff_version', 'rule', 'currency', 'amount', 'vat_amount', 'net_amount', 'calculation'] as const;

/** The summary of a stored row; null for a row stored before the summary columns existed (its JSON is read instead). */
export function summaryOfRow(r: CostSummaryRow): CostSummary | null {
  if (r.calculation === null || r.net_amount === null || r.tariff_name === null || r.tariff_version === null) return null;
  return {
    tariffId: Number(r.tariff_id), tariffName: r.tariff_name, tariffVersion: Number(r.tariff_version), rule: r.rule,
    currency: r.currency, amount: r.amount, vatAmount: r.vat_amount, netAmount: r.net_amount, calculation: r.calculation,
  };
}

/** The columns a stored cost carries besides its JSON. */
export function summaryColumns(p: PricedSession): Record<string, string | number | null> {
  const s = summaryOf(p);
  return { tariff_name: s.tariffName, tariff_version: s.tariffVersion, rule: s.rule, net_amount: s.netAmount, calculation: s.calculation };
}
