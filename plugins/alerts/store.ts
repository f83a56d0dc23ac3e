import type { Knex } from 'knex';
import type { Alert, Severity } from '../../core/events.js';
import type { PluginContext } from '../../core/plugin.js';
import type { AlertView, ChannelSender, CommonConfig } from './channels/channel.js';
import type { AlertsConfig } from './config.js';

export type Row = Record<string, unknown>;

/** A configured channel and, once started, its live sender. */
export interface LiveChannel {
  config: CommonConfig & Record<string, unknown>;
  /** Where it sends to, without secrets. */
  target: string;
  sender: ChannelSender | null;
}

/** What the parts of the plugin share; lives in register()'s closure. */
export interface Runtime {
  ctx: PluginContext<AlertsConfig>;
  config: AlertsConfig;
  channels: Map<string, LiveChannel>;
  /** Runs alert state changes one at a time, so escalation never races an ack or a resolve. */
  serial<T>(fn: () => Promise<T>): Promise<T>;
  /** Queue due escalation levels and deliver pending notices soon (not awaited by callers). */
  kick(): void;
  /** HMAC key of the ack links (loaded in start()). */
  secret(): string;
}

export function toAlert(r: Row): Alert {
  return {
    id: Number(r.id),
    severity: r.severity as Severity,
    kind: r.kind as string,
    chargerId: (r.charger_id as string | null) ?? null,
    message: r.message as string,
    state: r.state as Alert['state'],
    raisedAt: r.raised_at as string,
    acknowledgedAt: (r.acknowledged_at as string | null) ?? null,
    resolvedAt: (r.resolved_at as string | null) ?? null,
  };
}

export function toView(r: Row): AlertView {
  return {
    ...toAlert(r),
    connectorId: r.connector_id === null || r.connector_id === undefined ? null : Number(r.connector_id),
    action: (r.action as string | null) ?? null,
    since: r.since as string,
    acknowledgedBy: (r.acknowledged_by as string | null) ?? null,
    count: Number(r.raise_count ?? 1),
  };
}

export function details(r: Row): { chargers?: string[] } {
  try {
    return r.details ? (JSON.parse(r.details as string) as { chargers?: string[] }) : {};
  } catch {
    return {};
  }
}

export async function addHistory(db: Knex, alertId: number, at: string, what: string, detail?: unknown): Promise<void> {
  await db('alerts_history').insert({ alert_id: alertId, at, what, detail: detail === undefined ? null : JSON.stringify(detail) });
}

/** Inserts and returns the new id (RETURNING works on SQLite ≥ 3.35 and PostgreSQL). */
export async function insertId(db: Knex, table: string, row: Row): Promise<number> {
  const [out] = await db(table).insert(row).returning('id');
  return Number(typeof out === 'object' && out !== null ? (out as { id: unknown }).id : out);
}

export async function alertRow(db: Knex, id: number): Promise<Row | undefined> {
  return (await db('alerts_alerts').where({ id }).first()) as Row | undefined;
}

/** Is the charger inside a maintenance window now? Returns the window's end. */
export async function mutedUntil(db: Knex, chargerId: string | null, nowIso: string): Promise<string | null> {
  if (!chargerId) return null;
  const row = (await db('alerts_maintenance').where({ charger_id: chargerId }).andWhere('until', '>', nowIso).orderBy('until', 'desc').first()) as Row | undefined;
  return row ? (row.until as string) : null;
}

/** Outbox notices that are no longer wanted once an alert is acknowledged or resolved. */
export async function cancelPending(db: Knex, alertId: number, kinds: string[]): Promise<void> {
  await db('alerts_outbox').where({ alert_id: alertId }).whereIn('status', ['pending', 'failed']).whereIn('kind', kinds)
    .whereNotNull('next_attempt_at')
    .update({ status: 'cancelled', next_attempt_at: null });
}
