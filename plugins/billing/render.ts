import { dateFormat } from '../../core/clock.js';
import { csvLines, toCsv, type Cell } from '../../core/csv.js';
import type { Statement, StatementSession, Total } from './statements.js';
import { isoLocal } from './time.js';

const minutes = (s: StatementSession) =>
  s.stoppedAt ? Math.round((Date.parse(s.stoppedAt) - Date.parse(s.startedAt)) / 600) / 100 : null;

const local = (iso: string | null, tz: string) => (iso ? isoLocal(Date.parse(iso), tz) : '');

function sessionCells(s: StatementSession, tz: string): Cell[] {
  return [
    s.id, s.chargerId, s.connectorId, s.idTag, local(s.startedAt, tz), local(s.stoppedAt, tz), minutes(s), s.energyWh,
    s.tariff ? `${s.tariff.name} v${s.tariff.version}` : '', s.cost?.currency ?? '', s.cost?.amount ?? '', s.vatAmount ?? '', s.netAmount ?? '',
    s.calculation,
  ];
}

const SESSION_COLUMNS = ['transactionId', 'chargerId', 'connectorId', 'idTag', 'startedAt', 'stoppedAt', 'durationMinutes', 'energyWh', 'tariff', 'currency', 'amount', 'vatAmount', 'netAmount', 'calculation'];

const totalCells = (t: Total): Cell[] => ['', '', '', '', '', '', '', t.energyWh, '', t.currency, t.amount, t.vatAmount, t.netAmount, ''];

/** One user's statement: a row per session, then a total row per currency. Times in the site's zone with offset. */
export function statementCsv(st: Statement): string {
  return toCsv(['type', ...SESSION_COLUMNS], [
    ...st.sessions.map((s) => ['session', ...sessionCells(s, st.timezone)]),
    ...st.totals.map((t) => ['total', ...totalCells(t)]),
  ]);
}

/** A user's block of the site-wide export. */
export interface ExportGroup {
  userId: number | null;
  username: string;
  name: string | null;
  sessions: StatementSession[];
  totals: Total[];
}

/** The treasurer's export, written one user at a time: the header, each user's block, the site's totals last. */
export const exportCsvParts = {
  header: (): string => csvLines([['type', 'userId', 'username', 'name', ...SESSION_COLUMNS]]),
  /** A user's sessions, then their total per currency. */
  group(g: ExportGroup, tz: string): string {
    const who: Cell[] = [g.userId ?? '', g.username, g.name];
    const rows: Cell[][] = g.sessions.map((s) => ['session', ...who, ...sessionCells(s, tz)]);
    for (const t of g.totals) rows.push(['user-total', ...who, ...totalCells(t)]);
    return csvLines(rows);
  },
  totals: (totals: Total[]): string => csvLines(totals.map((t) => ['total', '', '', '', ...totalCells(t)])),
};

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function when(iso: string | null, tz: string): string {
  if (!iso) return '';
  return dateFormat('en-GB', { timeZone: tz, dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** A standalone, printable statement: the browser's "Print → PDF" gives the paper version. */
export function statementHtml(st: Statement, site: string): string {
  const tz = st.timezone;
  const who = st.user ? `${esc(st.user.name || st.user.username)} <span class="muted">(${esc(st.user.username)}, #${st.user.id})</span>` : `user #${esc(st.userId)}`;
  const rows = st.sessions.map((s) => `<tr${s.calculation ? ' class="has-calc"' : ''}>
      <td>${esc(s.id)}</td><td>${esc(when(s.startedAt, tz))}</td><td>${esc(when(s.stoppedAt, tz))}</td>
      <td>${esc(s.chargerId)}/${esc(s.connectorId)}</td><td>${esc(s.idTag)}</td>
      <td class="num">${esc(((s.energyWh ?? 0) / 1000).toFixed(3))}</td>
      <td>${esc(s.tariff ? `${s.tariff.name} v${s.tariff.version}` : '—')}</td>
      <td class="num">${esc(s.vatAmount ?? '')}</td><td class="num">${esc(s.cost ? `${s.cost.amount} ${s.cost.currency}` : '—')}</td>
    </tr>${s.calculation ? `<tr class="calc"><td></td><td colspan="8">${esc(s.calculation)}</td></tr>` : ''}`).join('');
  const totals = st.totals.map((t) => `<tr class="total">
      <td colspan="5">Total (${t.sessions} session${t.sessions === 1 ? '' : 's'})</td><td class="num">${esc((t.energyWh / 1000).toFixed(3))}</td><td></td>
      <td class="num">${esc(t.vatAmount)}</td><td class="num">${esc(t.amount)} ${esc(t.currency)}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Statement ${esc(st.period)} — ${esc(st.user?.username ?? st.userId)}</title>
<style>
  body { font: 11pt/1.4 system-ui, sans-serif; color: #111; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
  h1 { font-size: 1.5rem; margin: 0 0 .25rem; } .muted { color: #666; } .num { text-align: right; font-variant-numeric: tabular-nums; }
  header { display: flex; justify-content: space-between; align-items: flex-end; border-bottom: 2px solid #111; padding-bottom: .5rem; margin-bottom: 1rem; }
  table { width: 100%; border-collapse: collapse; } th, td { padding: .3rem .4rem; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
  th { font-size: .85em; color: #444; border-bottom: 1px solid #111; }
  tr.calc td { font-size: .8em; color: #555; padding-top: 0; }
  tr.has-calc td { border-bottom: none; }
  tr.total td { font-weight: 600; border-top: 2px solid #111; border-bottom: none; }
  .summary { display: flex; gap: 2rem; margin: 1rem 0; } .summary div { font-size: 1.1rem; } .summary b { display: block; font-size: 1.4rem; }
  footer { margin-top: 1.5rem; font-size: .85em; color: #555; } button { font: inherit; padding: .3rem .8rem; }
  @media print { body { margin: 0; max-width: none; font-size: 10pt; } .noprint { display: none; } tr { break-inside: avoid; } thead { display: table-header-group; } @page { margin: 15mm; } }
</style>
<script src="/print.js" defer></script></head>
<body>
  <p class="noprint"><button data-print>Print / save as PDF</button></p>
  <header><div><h1>Charging statement</h1><div>${who}</div></div>
    <div class="num"><div><b>${esc(site)}</b></div><div>Period ${esc(st.period)}</div><div class="muted">${esc(tz)}</div></div></header>
  <section class="summary">
    <div>Sessions<b>${st.sessions.length}</b></div><div>Energy<b>${esc((st.energyWh / 1000).toFixed(3))} kWh</b></div>
    <div>Amount<b>${esc(st.amount)} ${esc(st.currency)}</b></div><div>incl. VAT<b>${esc(st.vatAmount)} ${esc(st.currency)}</b></div>
  </section>
  <table>
    <thead><tr><th>#</th><th>Started</th><th>Stopped</th><th>Charger</th><th>Card</th><th class="num">Energy (kWh)</th><th>Tariff</th><th class="num">VAT</th><th class="num">Amount</th></tr></thead>
    <tbody>${rows || '<tr><td colspan="9" class="muted">No charging sessions in this period.</td></tr>'}</tbody>
    <tfoot>${totals}</tfoot>
  </table>
  <footer>
    <p>Prices include VAT. Each session is priced from its own meter readings and timestamps with the tariff version in force when it started,
    then rounded once, half-up, to the currency's minor unit (after any minimum or maximum per session); the VAT share is rounded the same way.
    Sessions belong to the month they started in (${esc(tz)}).${st.openSessions ? ` ${st.openSessions} session(s) still running will appear once they end.` : ''}</p>
    <p>Generated ${esc(when(st.generatedAt, tz))}.</p>
  </footer>
</body></html>`;
}
