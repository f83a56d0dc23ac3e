import { expect } from 'vitest';
import { createTag, createUser, eventually, type StartOptions, type TestApp, type TestChargePoint } from '../../tests/kit/index.js';

/** Test helpers shared by the billing plugin's tests. */

export const DRIVER_PASSWORD = 'driver-pass-123';

/** Start options for the real appliance with billing and this config section. */
export function withBilling(billing: Record<string, unknown> = { currency: 'EUR' }): StartOptions {
  return { config: { plugins: { users: { localList: { enabled: false } }, billing } } };
}

/** A user with one card. */
export async function driver(t: TestApp, username: string, extra: Record<string, unknown> = {}): Promise<{ id: number; idTag: string }> {
  const u = await createUser(t, username, 'driver', DRIVER_PASSWORD);
  const idTag = `${username.toUpperCase().slice(0, 14)}-T`;
  await createTag(t, { idTag, userId: u.id, ...extra });
  return { id: u.id, idTag };
}

export async function createTariff(t: TestApp, body: Record<string, unknown>): Promise<{ id: number } & Record<string, unknown>> {
  const res = await t.api('POST', '/tariffs', { body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export interface Sample { at: string; wh?: number; w?: number }

export interface SessionSpec {
  idTag: string;
  connectorId?: number;
  start: string;
  stop: string;
  meterStart: number;
  meterStop: number;
  samples?: Sample[];
  /** Send the samples inside StopTransaction's transactionData (as a charger that was offline does). */
  samplesInStop?: boolean;
}

function meterValue(s: Sample) {
  const sampledValue = [];
  if (s.wh !== undefined) sampledValue.push({ value: String(s.wh), unit: 'Wh', measurand: 'Energy.Active.Import.Register', context: 'Sample.Periodic' });
  if (s.w !== undefined) sampledValue.push({ value: String(s.w), unit: 'W', measurand: 'Power.Active.Import', context: 'Sample.Periodic' });
  return { timestamp: s.at, sampledValue };
}

export async function startSession(cp: TestChargePoint, s: Pick<SessionSpec, 'idTag' | 'connectorId' | 'start' | 'meterStart'>): Promise<number> {
  const res = await cp.call('StartTransaction', { connectorId: s.connectorId ?? 1, idTag: s.idTag, meterStart: s.meterStart, timestamp: s.start }) as { transactionId: number; idTagInfo: { status: string } };
  expect(res.idTagInfo.status).toBe('Accepted');
  return res.transactionId;
}

/** A whole session over OCPP, at the charger's own timestamps. */
export async function runSession(cp: TestChargePoint, s: SessionSpec): Promise<number> {
  const transactionId = await startSession(cp, s);
  const samples = s.samples ?? [];
  if (!s.samplesInStop && samples.length) {
    await cp.call('MeterValues', { connectorId: s.connectorId ?? 1, transactionId, meterValue: samples.map(meterValue) });
  }
  await cp.call('StopTransaction', {
    transactionId, meterStop: s.meterStop, timestamp: s.stop, reason: 'EVDisconnected',
    ...(s.samplesInStop && samples.length ? { transactionData: samples.map(meterValue) } : {}),
  });
  return transactionId;
}

/** The final cost GET /api/transactions shows for a session. */
export async function costOf(t: TestApp, transactionId: number): Promise<{ amount: string; currency: string; estimate?: boolean }> {
  type Cost = { amount: string; currency: string; estimate?: boolean };
  const cost = await eventually(async () => {
    const list = await t.api('GET', `/transactions?state=closed`);
    return (list.body as Array<{ id: number; cost: Cost | null }>).find((x) => x.id === transactionId)?.cost ?? null;
  });
  return cost!;
}

/** A strict RFC 4180 reader for checking exports: CRLF records, quoted cells with "" escapes. */
export function readCsv(text: string): Array<Record<string, string>> {
  const records: string[][] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { cells.push(cell); cell = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { cells.push(cell); records.push(cells); cells = []; cell = ''; i++; }
    else if (c === '\n') throw new Error('bare LF: RFC 4180 lines end with CRLF');
    else cell += c;
  }
  if (cell || cells.length) throw new Error('the last record does not end with CRLF');
  const [header, ...rows] = records;
  return rows.map((r) => {
    if (r.length !== header!.length) throw new Error(`record has ${r.length} cells, header has ${header!.length}`);
    return Object.fromEntries(header!.map((h, i) => [h, r[i]!]));
  });
}
