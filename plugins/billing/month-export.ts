import { Readable } from 'node:stream';
import type { Account } from '../../core/accounts.js';
import type { Transaction } from '../../core/transactions.js';
import { parseDecimal } from './decimal.js';
import { exportCsvParts, type ExportGroup } from './render.js';
import { addTo, formatTotals, toStatementSession, totalsOf, type StatementDeps, type Total, type TotalSum } from './statements.js';
import { monthRange } from './time.js';

interface Group { userId: number | null; username: string; name: string | null; txs: Transaction[] }

/** Sums per-user totals into the site's, exactly (each is a sum of amounts already in minor units). */
function sumTotals(all: Total[], siteCurrency: string): Total[] {
  const by = new Map<string, TotalSum>();
  for (const t of all) {
    addTo(by, t.currency, { sessions: t.sessions, energyMilliWh: Math.round(t.energyWh * 1000), amount: parseDecimal(t.amount), vat: parseDecimal(t.vatAmount) });
  }
  return formatTotals(by, siteCurrency);
}

/**
 * The treasurer's export of a month, streamed one user at a time: every
 * closed accepted session with its price, a total per user, the site's
 * totals last. The month's rows and short price summaries are read at once;
 * each user's lines are built, written and dropped in turn.
 */
export async function monthExport(d: StatementDeps, accounts: Account[], period: string, format: 'csv' | 'json'): Promise<Readable> {
  const { fromMs, toMs } = monthRange(period, d.timezone);
  const from = new Date(fromMs).toISOString();
  const to = new Date(toMs).toISOString();
  const rows = await d.transactions.acceptedStartedBetween(from, to);
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const groups = new Map<number | null, Group>();
  let open = 0;
  for (const tx of rows) {
    if (!tx.stoppedAt) {
      open += 1;
      continue;
    }
    let g = groups.get(tx.userId);
    if (!g) {
      const a = tx.userId === null ? undefined : byId.get(tx.userId);
      g = { userId: tx.userId, username: a?.username ?? (tx.userId === null ? '(no account)' : `(deleted user ${tx.userId})`), name: a?.name ?? null, txs: [] };
      groups.set(tx.userId, g);
    }
    g.txs.push(tx);
  }
  // The month's prices in one read: its sessions' ids are nearly one range, whoever they belong to.
  const prices = await d.costs.summaries(rows.filter((tx) => tx.stoppedAt));
  const ordered = [...groups.values()].sort((a, b) => (a.userId === null ? 1 : b.userId === null ? -1 : a.username.localeCompare(b.username)));

  async function* parts(): AsyncGenerator<string> {
    yield format === 'csv'
      ? exportCsvParts.header()
      : `{"period":${JSON.stringify(period)},"from":"${from}","to":"${to}","timezone":${JSON.stringify(d.timezone)},"openSessions":${open},"users":[`;
    const groupTotals: Total[] = [];
    for (const [i, g] of ordered.entries()) {
      const sessions = g.txs.map((tx) => toStatementSession(tx, prices.get(tx.id) ?? null));
      const group: ExportGroup = { userId: g.userId, username: g.username, name: g.name, sessions, totals: totalsOf(sessions, d.currency) };
      groupTotals.push(...group.totals);
      yield format === 'csv' ? exportCsvParts.group(group, d.timezone) : `${i ? ',' : ''}${JSON.stringify(group)}`;
    }
    const totals = sumTotals(groupTotals, d.currency);
    yield format === 'csv' ? exportCsvParts.totals(totals) : `],"totals":${JSON.stringify(totals)}}`;
  }
  return Readable.from(parts(), { objectMode: false });
}
