import type { Knex } from 'knex';
import type { Alert, Severity } from '../../core/events.js';
import type { PluginContext } from '../../core/plugin.js';
import type { AlertView, ChannelSender, CommonConfig, NoticeKind } from './channels/channel.js';
import type { AlertsConfig } from './config.js';

/** A row of alerts_alerts. SQLite returns booleans as 0/1. */
export interface AlertRow {
  id: number;
  problem_key: string;
  kind: string;
  severity: Severity;
  charger_id: string | null;
  connector_id: number | null;
  finding_id: number | null;
  cleared_finding_id: number | null;
  message: string;
  action: string | null;
  /** JSON, see details(). */
  details: string | null;
  state: Alert['state'];
  since: string;
  raised_at: string;
  last_raised_at: string;
  raise_count: number;
  flaps: number;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  resolved_at: string | null;
  episode: number;
  notify_from: string;
  level: number;
  repeats: number;
  held: boolean | number;
  announced: boolean | number;
  folded_into: number | null;
}

/** A row of alerts_outbox: one notice to one channel. */
export interface OutboxRow {
  id: number;
  alert_id: number | null;
  channel: string;
  recipient: string | null;
  level: number;
  episode: number;
  kind: NoticeKind;
  dedupe_key: string;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
  last_attempt_at: string | null;
}

export interface HistoryRow {
  id: number;
  alert_id: number;
  at: string;
  what: string;
  /** JSON. */
  detail: string | null;
}

export interface MaintenanceRow {
  id: number;
  charger_id: string;
  until: string;
  reason: string | null;
  created_by: string;
  created_at: string;
}

/** A row of alerts_settings: generated secrets and keys. */
export interface SettingRow {
  key: string;
  value: string;
}

/** A row of alerts_push_subscriptions: one browser of one account. */
export interface PushSubscriptionDbRow {
  id: number;
  username: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  created_at: string;
}

/** A notice as GET /api/alerts/deliveries shows it. */
export interface DeliveryView {
  id: number; alertId: number | null; channel: string; type: string | null; recipient: string | null;
  level: number; kind: NoticeKind; status: string; attempts: number; nextAttemptAt: string | null; lastError: string | null;
  createdAt: string; sentAt: string | null; lastAttemptAt: string | null;
}

export interface MaintenanceWindow {
  id: number; chargerId: string; until: string; reason: string | null; createdBy: string; createdAt: string; active: boolean;
}

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

export function toAlert(r: AlertRow): Alert {
  return {
    id: Number(r.id),
    severity: r.severity,
    kind: r.kind,
    chargerId: r.charger_id ?? null,
    message: r.message,
    state: r.state,
    raisedAt: r.raised_at,
    acknowledgedAt: r.acknowledged_at ?? null,
    resolvedAt: r.resolved_at ?? null,
  };
}

export function toView(r: AlertRow): AlertView {
  return {
    ...toAlert(r),
    connectorId: r.connector_id === null || r.connector_id === undefined ? null : Number(r.connector_id),
    action: r.action ?? null,
    since: r.since,
    acknowledgedBy: r.acknowledged_by ?? null,
    count: Number(r.raise_count ?? 1),
  };
}

export function details(r: AlertRow): { chargers?: string[] } {
  try {
    return r.details ? (JSON.parse(r.details) as { chargers?: string[] }) : {};
  } catch {
    return {};
  }
}

/** `types`: channel name to channel type, for channels still configured. */
export function toDelivery(r: OutboxRow, types: Map<string, string>): DeliveryView {
  return {
    id: Number(r.id), alertId: r.alert_id === null ? null : Number(r.alert_id), channel: r.channel,
    type: types.get(r.channel) ?? null, recipient: r.recipient ?? null,
    level: Number(r.level), kind: r.kind, status: r.status, attempts: Number(r.attempts),
    nextAttemptAt: r.next_attempt_at ?? null, lastError: r.last_error ?? null,
    createdAt: r.created_at, sentAt: r.sent_at ?? null, lastAttemptAt: r.last_attempt_at ?? null,
  };
}

export function toHistoryEntry(r: HistoryRow): { at: string; what: string; detail: unknown } {
  return { at: r.at, what: r.what, detail: r.detail ? JSON.parse(r.detail) as unknown : null };
}

export function toMaintenance(r: MaintenanceRow, nowIso: string): MaintenanceWindow {
  return {
    id: Number(r.id), chargerId: r.charger_id, until: r.until, reason: r.reason ?? null,
    createdBy: r.created_by, createdAt: r.created_at, active: r.until > nowIso,
  };
}

export async function addHistory(db: Knex, alertId: number, at: string, what: string, detail?: unknown): Promise<void> {
  await db('alerts_history').insert({ alert_id: alertId, at, what, detail: detail === undefined ? null : JSON.stringify(detail) });
}

/** Inserts and returns the new id (RETURNING works on SQLite ≥ 3.35 and PostgreSQL). */
export async function insertId(db: Knex, table: string, row: Record<string, unknown>): Promise<number> {
  const [out] = await db(table).insert(row).returning('id');
  return Number(typeof out === 'object' && out !== null ? (out as { id: unknown }).id : out);
}

export async function alertRow(db: Knex, id: number): Promise<AlertRow | undefined> {
  return db<AlertRow>('alerts_alerts').where({ id }).first();
}

/** Is the charger inside a maintenance window now? Returns the window's end. */
export async function mutedUntil(db: Knex, chargerId: string | null, nowIso: string): Promise<string | null> {
  if (!chargerId) return null;
  const row = await db<MaintenanceRow>('alerts_maintenance').where({ charger_id: chargerId }).andWhere('until', '>', nowIso).orderBy('until', 'desc').first('until');
  return row ? row.until : null;
}

/** Every charger under maintenance now, with the end of its latest window: one query for a whole pass. */
export async function mutedChargers(db: Knex, nowIso: string): Promise<Map<string, string>> {
  const rows = await db<MaintenanceRow>('alerts_maintenance').where('until', '>', nowIso).select('charger_id', 'until');
  const out = new Map<string, string>();
  for (const r of rows) if (r.charger_id && (out.get(r.charger_id) ?? '') < r.until) out.set(r.charger_id, r.until);
  return out;
}

/** Outbox notices that are no longer wanted once an alert is acknowledged or resolved. */
export async function cancelPending(db: Knex, alertId: number, kinds: string[]): Promise<void> {
  await db('alerts_outbox').where({ alert_id: alertId }).whereIn('status', ['pending', 'failed']).whereIn('kind', kinds)
    .whereNotNull('next_attempt_at')
    .update({ status: 'cancelled', next_attempt_at: null });
}
