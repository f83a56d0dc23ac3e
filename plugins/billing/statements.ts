import { transactionApiView, type Transaction, type TransactionApiView, type Transactions } from '../../core/transactions.js';
import type { Account } from '../../core/accounts.js';
import { minorDigits } from './currency.js';
import { formatDecimal, parseDecimal } from './decimal.js';
import type { Costs } from './costs.js';
import type { CostSummary } from './cost-summary.js';
import { monthRange } from './time.js';

/** A session on a statement: the transaction as GET /api/transactions shows it, plus how it was priced. */
export type StatementSession = TransactionApiView & {
  cost: { amount: string; currency: string } | null;
  vatAmount: string | null;
  netAmount: string | null;
  tariff: { id: number; name: string; version: number; rule: string | null } | null;
  /** How the amount came about, to check by hand: "10 kWh × 0.3 = 3 + fee 1 → 4.00". */
  calculation: string | null;
};

/** Sums per currency; a site normally has one. */
export interface Total { currency: string; sessions: number; energyWh: number; amount: string; vatAmount: string; netAmount: string }

export interface Statement {
  userId: number | null;
  user: { id: number; username: string; name: string | null } | null;
  period: string;
  /** The period's bounds, UTC; a session belongs to the month it started in (site time zone). */
  from: string;
  to: string;
  timezone: string;
  currency: string;
  sessions: StatementSession[];
  energyWh: number;
  amount: string;
  vatAmount: string;
  netAmount: string;
  totals: Total[];
  /** Sessions of the period still running: on the statement once they stop. */
  openSessions: number;
  generatedAt: string;
}

export interface StatementDeps {
  transactions: Transactions;
  costs: Costs;
  timezone: string;
  /** The site's billing currency: the headline total when sessions are in several. */
  currency: string;
  now: () => string;
}

export function toStatementSession(tx: Transaction, c: CostSummary | null): StatementSession {
  return {
    ...transactionApiView(tx),
    cost: c ? { amount: c.amount, currency: c.currency } : null,
    vatAmount: c?.vatAmount ?? null,
    netAmount: c?.netAmount ?? null,
    tariff: c ? { id: c.tariffId, name: c.tariffName, version: c.tariffVersion, rule: c.rule } : null,
    calculation: c?.calculation ?? null,
  };
}

/** Running sums of one currency: energy in mWh and money in micro units, so that adding is exact. */
export interface TotalSum { sessions: number; energyMilliWh: number; amount: bigint; vat: bigint }

/** Sums per currency as totals, the site's currency first (a site normally has one). */
export function formatTotals(by: Map<string, TotalSum>, siteCurrency: string): Total[] {
  if (!by.size) by.set(siteCurrency, { sessions: 0, energyMilliWh: 0, amount: 0n, vat: 0n });
  return [...by].map(([currency, t]) => {
    const digits = minorDigits(currency);
    return {
      currency, sessions: t.sessions, energyWh: t.energyMilliWh / 1000,
      amount: formatDecimal(t.amount, digits), vatAmount: formatDecimal(t.vat, digits), netAmount: formatDecimal(t.amount - t.vat, digits),
    };
  }).sort((a, b) => (a.currency === siteCurrency ? -1 : b.currency === siteCurrency ? 1 : a.currency.localeCompare(b.currency)));
}

/** Adds one entry to the sums of its currency. */
export function addTo(by: Map<string, TotalSum>, currency: string, add: TotalSum): void {
  const t = by.get(currency) ?? { sessions: 0, energyMilliWh: 0, amount: 0n, vat: 0n };
  t.sessions += add.sessions;
  t.energyMilliWh += add.energyMilliWh;
  t.amount += add.amount;
  t.vat += add.vat;
  by.set(currency, t);
}

/** Sums sessions per currency, exactly (decimal strings in, decimal strings out). */
export function totalsOf(sessions: StatementSession[], siteCurrency: string): Total[] {
  const by = new Map<string, TotalSum>();
  for (const s of sessions) {
    addTo(by, s.cost?.currency ?? siteCurrency, {
      sessions: 1, energyMilliWh: Math.round((s.energyWh ?? 0) * 1000),
      amount: s.cost ? parseDecimal(s.cost.amount) : 0n, vat: s.vatAmount ? parseDecimal(s.vatAmount) : 0n,
    });
  }
  return formatTotals(by, siteCurrency);
}

/**
 * The closed, accepted sessions that started in a month, priced: one user's,
 * or with userId 'all' everyone's (also sessions of cards without an account).
 */
export async function periodSessions(d: StatementDeps, userId: number | 'all', period: string): Promise<{ sessions: StatementSession[]; open: number; from: string; to: string }> {
  const { fromMs, toMs } = monthRange(period, d.timezone);
  const from = new Date(fromMs).toISOString();
  const to = new Date(toMs).toISOString();
  const rows = await d.transactions.acceptedStartedBetween(from, to, userId === 'all' ? undefined : userId);
  const closed = rows.filter((tx) => tx.stoppedAt);
  const prices = await d.costs.summaries(closed);
  const sessions = closed.map((tx) => toStatementSession(tx, prices.get(tx.id) ?? null));
  const open = rows.length - closed.length;
  return { sessions, open, from, to };
}

export async function statementFor(d: StatementDeps, user: Account | null, userId: number, period: string): Promise<Statement> {
  const { sessions, open, from, to } = await periodSessions(d, userId, period);
  const totals = totalsOf(sessions, d.currency);
  const main = totals[0]!;
  return {
    userId, user: user ? { id: user.id, username: user.username, name: user.name } : null,
    period, from, to, timezone: d.timezone,
    currency: main.currency, sessions, energyWh: totals.reduce((sum, t) => sum + Math.round(t.energyWh * 1000), 0) / 1000, amount: main.amount, vatAmount: main.vatAmount, netAmount: main.netAmount,
    totals, openSessions: open, generatedAt: d.now(),
  };
}
