import type { Knex } from 'knex';
import { dateFormat } from '../../core/clock.js';
import type { AuthorizationStatus, EventMap, EventName } from '../../core/events.js';
import type { PluginContext } from '../../core/plugin.js';
import type { UsersApi } from '../users/api.js';
import type { AlertsConfig } from './config.js';
import { chargerPlace } from './messages.js';
import type { PushStore } from './push.js';
import { formatSpan, quietUntil } from './time.js';
import { errorMessage } from '../../core/errors.js';
import { retryDelay, serialQueue } from './retry.js';

/** A row of alerts_driver_notices. */
interface DriverNoticeRow {
  id: number; user_id: number; kind: string; dedupe_key: string; charger_id: string | null; connector_id: number | null;
  title: string; body: string; url: string; expires_at: string | null; status: string; attempts: number;
  next_attempt_at: string | null; last_error: string | null; created_at: string; sent_at: string | null;
}

/** A row of alerts_driver_prefs; disabled_kinds is a JSON list. */
interface DriverPrefsRow {
  user_id: number; disabled_kinds: string; quiet_from: string | null; quiet_to: string | null; updated_at: string;
}

/** What a driver may be told; each can be turned off by the driver. */
export const DRIVER_KINDS = ['session-finished', 'car-idle', 'reservation-expiring', 'queue-turn', 'card-refused'] as const;
export type DriverKind = typeof DRIVER_KINDS[number];

export interface DriverPrefs {
  kinds: Record<DriverKind, boolean>;
  /** The driver's own quiet hours; null = the site's default (drivers.quietHours). from = to means none. */
  quietHours: { from: string; to: string } | null;
}

/** A refused card tells its owner at most once per charger in this window. */
const REFUSAL_WINDOW_MS = 10 * 60_000;
/** A stopped session's car is looked for this long after the stop (a Finishing connector). */
const IDLE_LOOKBACK_MS = 24 * 3600_000;
/** Statuses in which a car is plugged in but takes no power. */
const IDLE = new Set(['SuspendedEV', 'Finishing']);
const REFUSED_WORDS: Partial<Record<AuthorizationStatus, string>> = {
  Blocked: 'it is blocked', Expired: 'it has expired', Invalid: 'it may not be used there now', ConcurrentTx: 'it is already charging elsewhere',
};
const BATCH = 100;

interface Queued {
  userId: number; kind: DriverKind; key: string; title: string; body: string;
  chargerId?: string; connectorId?: number;
  /** Not before this (ms); default now. */
  notBeforeMs?: number;
  /** Moot after this (ISO). */
  expiresAt?: string;
}

export async function readPrefs(db: Knex, userId: number): Promise<DriverPrefs> {
  const row = await db<DriverPrefsRow>('alerts_driver_prefs').where({ user_id: userId }).first();
  const off = new Set(row ? (JSON.parse(row.disabled_kinds) as string[]) : []);
  const kinds = Object.fromEntries(DRIVER_KINDS.map((k) => [k, !off.has(k)])) as Record<DriverKind, boolean>;
  const quietHours = row?.quiet_from ? { from: row.quiet_from, to: row.quiet_to as string } : null;
  return { kinds, quietHours };
}

export async function writePrefs(db: Knex, userId: number, change: { kinds?: Partial<Record<DriverKind, boolean>>; quietHours?: DriverPrefs['quietHours'] }, nowIso: string): Promise<DriverPrefs> {
  const have = await readPrefs(db, userId);
  const kinds = { ...have.kinds, ...change.kinds };
  const quiet = change.quietHours === undefined ? have.quietHours : change.quietHours;
  await db('alerts_driver_prefs').insert({
    user_id: userId, disabled_kinds: JSON.stringify(DRIVER_KINDS.filter((k) => !kinds[k])),
    quiet_from: quiet?.from ?? null, quiet_to: quiet?.to ?? null, updated_at: nowIso,
  }).onConflict('user_id').merge();
  return readPrefs(db, userId);
}

/**
 * Notices to drivers' own phones: charging finished (energy and price), a
 * car left idle, a reservation about to expire, a turn in the queue, a
 * refused card. Each is a row first (some for later), sent by the delivery
 * job, retried, dropped when it became moot or the driver turned its kind
 * off; quiet hours hold it until they end.
 */
export function driverNotices(ctx: PluginContext<AlertsConfig>, push: () => PushStore) {
  const cfg = ctx.config.drivers;
  const db = ctx.db;
  const clock = ctx.core.clock;
  const tz = ctx.core.site.timezone;
  const hhmm = (iso: string) => dateFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
  // One handler at a time: a status change and the one after it are applied in order.
  const handlers = serialQueue();
  let running: Promise<void> | null = null;
  let started = false;
  let wake: NodeJS.Timeout | undefined;

  const when = <K extends EventName>(event: K, fn: (e: EventMap[K]) => Promise<void>) => {
    ctx.on(event, (e) => {
      if (!cfg.enabled) return;
      void handlers.run(() => fn(e)).catch((err: unknown) => ctx.log.error(`driver notices/${event} failed: ${errorMessage(err)}`));
    });
  };
  const where = async (chargerId: string, connectorId?: number | null) => {
    const name = (await ctx.core.chargers.get(chargerId).catch(() => null))?.name;
    return chargerPlace(chargerId, name, connectorId);
  };

  /** Stores a notice unless the driver has no phone subscribed; a cancelled one with the same key is armed again. */
  async function queue(q: Queued): Promise<void> {
    if (!(await push().subscriptionsOfUser(q.userId)).length) return;
    const now = clock.nowMs();
    const next = new Date(Math.max(now, q.notBeforeMs ?? now)).toISOString();
    const row = {
      user_id: q.userId, kind: q.kind, dedupe_key: q.key, charger_id: q.chargerId ?? null, connector_id: q.connectorId ?? null,
      title: q.title, body: q.body, url: '/#/p/drive', expires_at: q.expiresAt ?? null, status: 'pending', attempts: 0,
      next_attempt_at: next, last_error: null, created_at: new Date(now).toISOString(),
    };
    const have = await db<DriverNoticeRow>('alerts_driver_notices').where({ dedupe_key: q.key }).first();
    if (!have) await db('alerts_driver_notices').insert(row);
    else if (have.status === 'cancelled') await db('alerts_driver_notices').where({ id: have.id }).update(row);
    else return;
    armWake(Date.parse(next));
  }

  const cancel = (match: Record<string, unknown>) =>
    db('alerts_driver_notices').where({ ...match, status: 'pending' }).update({ status: 'cancelled', next_attempt_at: null });

  when('session.stopped', async (e) => {
    // A superseded session was closed by the appliance because the charger forgot it: the car may still be charging.
    // Nothing charged (a refused card, a car that took nothing): the card notice, if any, said enough.
    if (!e.userId || e.reason === 'Superseded' || e.energyWh <= 0 || !(await push().subscriptionsOfUser(e.userId)).length) return;
    const cost = await ctx.ask('cost', {
      id: e.transactionId, chargerId: e.chargerId, connectorId: e.connectorId, idTag: e.idTag, userId: e.userId,
      startedAt: e.startedAt, stoppedAt: e.stoppedAt, meterStartWh: e.meterStartWh, meterStopWh: e.meterStopWh,
    });
    const kwh = (Math.max(0, e.energyWh) / 1000).toFixed(1);
    const took = formatSpan(Date.parse(e.stoppedAt) - Date.parse(e.startedAt));
    await queue({
      userId: e.userId, kind: 'session-finished', key: `session-finished:${e.transactionId}`, chargerId: e.chargerId, connectorId: e.connectorId,
      title: `Charging finished: ${kwh} kWh${cost ? `, ${cost.amount} ${cost.currency}` : ''}`,
      body: `Your session at ${await where(e.chargerId, e.connectorId)} ended after ${took}: ${kwh} kWh${cost ? ` for ${cost.amount} ${cost.currency}` : ''}.`,
    });
  });

  when('connector.status', async (e) => {
    if (!IDLE.has(e.status)) {
      await cancel({ kind: 'car-idle', charger_id: e.chargerId, connector_id: e.connectorId });
      return;
    }
    if (!cfg.idleAfter) return;
    // The car there belongs to the connector's open session, or to the one that stopped last (Finishing: still plugged in).
    const tx = await ctx.core.transactions.latestOn(e.chargerId, e.connectorId);
    if (!tx?.userId) return;
    const stoppedAt = tx.stoppedAt;
    if (stoppedAt && Date.parse(stoppedAt) < clock.nowMs() - IDLE_LOOKBACK_MS) return;
    const since = Math.min(clock.nowMs(), Date.parse(e.chargerTime) || clock.nowMs());
    await queue({
      userId: tx.userId, kind: 'car-idle', key: `car-idle:${tx.id}`, chargerId: e.chargerId, connectorId: e.connectorId,
      notBeforeMs: since + cfg.idleAfter,
      title: `Please move your car from ${e.chargerId}`,
      body: `Your car has been plugged in at ${await where(e.chargerId, e.connectorId)} without charging for ${formatSpan(cfg.idleAfter)}. Please move it so the next driver can charge.`,
    });
  });

  when('reservation.created', async (e) => {
    if (!e.userId || !cfg.reservationReminder) return;
    const remindAt = Date.parse(e.expiresAt) - cfg.reservationReminder;
    // A reservation shorter than the reminder needs none.
    if (remindAt <= clock.nowMs()) return;
    await queue({
      userId: e.userId, kind: 'reservation-expiring', key: `reservation-expiring:${e.id}`, chargerId: e.chargerId, connectorId: e.connectorId,
      notBeforeMs: remindAt, expiresAt: e.expiresAt,
      title: `Your reservation at ${e.chargerId} expires in ${formatSpan(cfg.reservationReminder)}`,
      body: `Your reservation at ${await where(e.chargerId, e.connectorId)} expires at ${hhmm(e.expiresAt)}. Start charging before then, or it goes to the next driver.`,
    });
  });
  when('reservation.ended', async (e) => { await cancel({ dedupe_key: `reservation-expiring:${e.id}` }); });

  when('queue.offered', async (e) => {
    await queue({
      userId: e.userId, kind: 'queue-turn', key: `queue-turn:${e.entryId}`, chargerId: e.chargerId, connectorId: e.connectorId,
      expiresAt: e.holdUntil,
      title: `Your turn: ${e.chargerId} is free for you`,
      body: `${await where(e.chargerId, e.connectorId)} is held for you until ${hhmm(e.holdUntil)}. Plug in and start charging.`,
    });
  });
  when('queue.skipped', async (e) => { await cancel({ dedupe_key: `queue-turn:${e.entryId}` }); });

  when('token.presented', async (e) => {
    // A refused stop still stops; only refusals to charge are told.
    if (e.idTagInfo.status === 'Accepted' || !e.known || e.context === 'StopTransaction') return;
    const tag = await ctx.use<UsersApi>('users')?.findTag(e.idTag);
    if (!tag?.userId) return;
    const bucket = Math.floor(clock.nowMs() / REFUSAL_WINDOW_MS);
    const masked = tag.idTag.length > 4 ? `…${tag.idTag.slice(-4)}` : tag.idTag;
    await queue({
      userId: tag.userId, kind: 'card-refused', key: `card-refused:${tag.idTag.toLowerCase()}:${e.chargerId}:${bucket}`,
      chargerId: e.chargerId, connectorId: e.connectorId ?? undefined,
      title: `Your card was refused at ${e.chargerId}`,
      body: `Card ${masked} was refused at ${await where(e.chargerId, e.connectorId)}: ${REFUSED_WORDS[e.idTagInfo.status] ?? e.idTagInfo.status}.`,
    });
  });

  function armWake(atMs: number) {
    if (!started) return;
    // The delivery job runs every few seconds anyway; a notice due sooner is sent at its moment.
    const delay = Math.max(0, atMs - clock.nowMs());
    if (delay > 5_000) return;
    clearTimeout(wake);
    wake = setTimeout(() => void deliver(), delay);
    wake.unref();
  }

  async function deliverRow(row: DriverNoticeRow): Promise<void> {
    const nowMs = clock.nowMs();
    const now = new Date(nowMs).toISOString();
    const done = (status: string, why: string | null) =>
      db('alerts_driver_notices').where({ id: row.id }).update({ status, next_attempt_at: null, last_error: why, ...(status === 'sent' ? { sent_at: now } : {}) });
    const expiresAt = row.expires_at;
    if (expiresAt && expiresAt <= now) return void (await done('skipped', 'moot by the time it was due'));
    const userId = Number(row.user_id);
    const prefs = await readPrefs(db, userId);
    if (!prefs.kinds[row.kind as DriverKind]) return void (await done('skipped', 'turned off by the driver'));
    const quietEnd = quietUntil(nowMs, prefs.quietHours ?? cfg.quietHours, tz);
    if (quietEnd !== null) {
      if (expiresAt && Date.parse(expiresAt) <= quietEnd) return void (await done('skipped', 'quiet hours, moot by their end'));
      await db('alerts_driver_notices').where({ id: row.id }).update({ next_attempt_at: new Date(quietEnd).toISOString() });
      return;
    }
    const subs = await push().subscriptionsOfUser(userId);
    if (!subs.length) return void (await done('skipped', 'no phone subscribed'));
    const payload = JSON.stringify({
      title: row.title, body: row.body, tag: `driver-${row.kind}-${row.id}`, url: row.url, notice: 'driver', kind: row.kind,
    });
    const ttlSeconds = expiresAt ? Math.max(60, Math.round((Date.parse(expiresAt) - nowMs) / 1000)) : 12 * 3600;
    const { delivered, errors } = await push().send(subs, payload, { timeoutMs: 10_000, ttlSeconds, urgency: row.kind === 'session-finished' ? 'normal' : 'high' });
    if (delivered) return void (await done('sent', errors.length ? errors.join('; ') : null));
    if (!errors.length) return void (await done('skipped', 'every subscription was gone'));
    const attempts = Number(row.attempts) + 1;
    if (Date.parse(row.created_at) + cfg.giveUpAfter <= nowMs) {
      await db('alerts_driver_notices').where({ id: row.id }).update({ status: 'failed', attempts, next_attempt_at: null, last_error: errors.join('; ') });
      return;
    }
    const retry = retryDelay(ctx.config.retry, attempts);
    await db('alerts_driver_notices').where({ id: row.id }).update({ attempts, next_attempt_at: new Date(nowMs + retry).toISOString(), last_error: errors.join('; ') });
  }

  /** Sends what is due; runs never overlap (a second call waits for the running one). */
  function deliver(): Promise<void> {
    if (!started) return Promise.resolve();
    running ??= (async () => {
      try {
        const due = await db<DriverNoticeRow>('alerts_driver_notices').where({ status: 'pending' }).andWhere('next_attempt_at', '<=', clock.iso())
          .orderBy('id').limit(BATCH);
        for (const row of due) {
          await deliverRow(row).catch((err: unknown) => ctx.log.error(`driver notice ${row.id} failed: ${errorMessage(err)}`));
        }
      } finally {
        running = null;
      }
    })();
    return running;
  }

  return {
    deliver,
    start() { started = true; void deliver(); },
    async stop() {
      started = false;
      clearTimeout(wake);
      await handlers.idle();
      await running;
    },
    /** Handlers still queued (tests and shutdown wait for them). */
    idle: () => handlers.idle().then(() => running ?? undefined),
  };
}
