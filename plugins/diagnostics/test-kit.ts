import { Accounts } from '../../core/accounts.js';
import type { Role } from '../../core/types.js';
import type { StartOptions, TestApp } from '../../tests/kit/index.js';
import type { FindingView } from './store.js';

export const MIN = 60_000;

/** Start options for the real appliance with the diagnostics plugin and this config section. */
export function withDiagnostics(config: Record<string, unknown> = {}, other: Record<string, unknown> = {}): StartOptions {
  return { config: { plugins: { diagnostics: config, ...other } } };
}

/** A MeterValues payload with the energy register (and the power, when given), stamped by the app's clock. */
export function energyReading(t: TestApp, transactionId: number, wh: number, opts: { connectorId?: number; powerW?: number } = {}) {
  const sampledValue = [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }];
  if (opts.powerW !== undefined) sampledValue.push({ value: String(opts.powerW), measurand: 'Power.Active.Import', unit: 'W' });
  return { connectorId: opts.connectorId ?? 1, transactionId, meterValue: [{ timestamp: t.clock.iso(), sampledValue }] };
}

/** Waits until every bus handler and finding write has run. */
export async function settled(t: TestApp): Promise<void> {
  await t.app.bus.idle();
  await t.app.bus.idle();
}

/** GET /api/diagnostics/findings with the given filter. */
export async function findings(t: TestApp, query: Record<string, string> = {}): Promise<FindingView[]> {
  await settled(t);
  const q = new URLSearchParams(query).toString();
  const res = await t.api<FindingView[]>('GET', `/diagnostics/findings${q ? `?${q}` : ''}`);
  if (res.status !== 200) throw new Error(`findings: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The active findings of one check. */
export async function active(t: TestApp, check: string, chargerId?: string): Promise<FindingView[]> {
  return (await findings(t, { state: 'active', check, ...(chargerId ? { chargerId } : {}) }));
}

/** Creates an operator account with this role and returns its bearer token. */
export async function tokenFor(t: TestApp, role: Role): Promise<string> {
  const username = `diag-${role}`;
  const accounts = new Accounts(t.app.db, t.clock, 3_600_000);
  if (!(await accounts.findByUsername(username))) await accounts.create({ username, role, password: `${role}-secret-pw` });
  return t.login(username, `${role}-secret-pw`);
}
