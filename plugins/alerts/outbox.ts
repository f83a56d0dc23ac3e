import type { AlertView, Notice } from './channels/channel.js';
import { composeNotice } from './messages.js';
import { alertRow, details, toView, type AlertRow, type OutboxRow, type Runtime } from './store.js';
import { quietUntil } from './time.js';
import { errorMessage } from '../../core/errors.js';
import { retryDelay } from './retry.js';

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

/** The first notice of the first charger of an outage: it went (or goes) out before the outage was known, undelayed. */
const firstOfOutage = (row: OutboxRow, alert: AlertRow) =>
  row.kind === 'raised' && Number(row.level) === 0 && alert.notify_from <= alert.raised_at;

/**
 * The sender: delivers due outbox rows, one channel's rows in order and the
 * channels side by side; a failure backs off exponentially (per channel, so
 * a dead SMTP server is asked once per backoff, not once per notice).
 * Rows are in the database before anything is sent, so a restart resumes them.
 */
export function createDelivery(rt: Runtime) {
  const { ctx } = rt;
  const db = ctx.db;
  const clock = ctx.core.clock;
  const blockedUntil = new Map<string, number>();
  /** Each channel's sender loop while it runs: a slow channel (a new SMTP connection per mail) holds up no other. */
  const busy = new Map<string, Promise<void>>();
  /** Channels asked for another look while their loop was running (new rows, a resolve that came meanwhile). */
  const more = new Set<string>();
  const passes = new Set<Promise<void>>();


  async function noticeFor(row: OutboxRow, alert: AlertRow): Promise<Notice> {
    return composeNotice(rt, {
      kind: row.kind, key: row.dedupe_key, level: Number(row.level), channel: row.channel,
      alert: toView(alert), members: alert.kind === 'power-outage' ? details(alert).chargers : undefined, again: Number(row.episode) > 0,
    });
  }

  async function deliverRow(row: OutboxRow): Promise<'sent' | 'failed' | 'skipped'> {
    const name = row.channel;
    const ch = rt.channels.get(name);
    const nowMs = clock.nowMs();
    const now = new Date(nowMs).toISOString();
    if (!ch) {
      await db<OutboxRow>('alerts_outbox').where({ id: row.id }).update({ status: 'failed', next_attempt_at: null, last_error: `channel ${name} is no longer configured` });
      return 'skipped';
    }
    if (!ch.sender) return 'failed';
    const alert = row.alert_id === null ? undefined : await alertRow(db, Number(row.alert_id));
    // An ack or a resolve since queuing makes a raise notice moot.
    const moot = !alert
      || ((row.kind === 'raised' || row.kind === 'repeat') && (alert.state !== 'open' || (Boolean(alert.folded_into) && !firstOfOutage(row, alert))))
      || (row.kind === 'resolved' && alert.state !== 'resolved');
    if (!alert || moot) {
      await db<OutboxRow>('alerts_outbox').where({ id: row.id }).update({ status: 'cancelled', next_attempt_at: null });
      return 'skipped';
    }
    if (alert.severity !== 'critical') {
      const until = quietUntil(nowMs, ch.config.quietHours, ctx.core.site.timezone);
      if (until) {
        await db<OutboxRow>('alerts_outbox').where({ id: row.id }).update({ next_attempt_at: new Date(until).toISOString() });
        return 'skipped';
      }
    }
    const attempts = Number(row.attempts) + 1;
    try {
      const notice = await noticeFor(row, alert);
      await withTimeout(ch.sender.send(notice), ch.config.timeout + 2000, `sending to ${name}`);
      // Sent is sent, even if an ack or a resolve cancelled the row while it was on its way.
      await db<OutboxRow>('alerts_outbox').where({ id: row.id }).whereIn('status', ['pending', 'failed', 'cancelled'])
        .update({ status: 'sent', attempts, sent_at: clock.iso(), last_attempt_at: now, next_attempt_at: null, last_error: null });
      if (row.kind !== 'resolved') await resolvedMeanwhile(row);
      if (Number(row.attempts) > 0) ctx.log.info(`channel ${name} delivered alert ${row.alert_id} after ${attempts} attempts`);
      return 'sent';
    } catch (err) {
      const giveUp = nowMs - Date.parse(row.created_at) > rt.config.retry.giveUpAfter;
      const next = giveUp ? null : new Date(nowMs + retryDelay(rt.config.retry, attempts)).toISOString();
      await db<OutboxRow>('alerts_outbox').where({ id: row.id }).update({ status: 'failed', attempts, last_attempt_at: now, next_attempt_at: next, last_error: errorMessage(err).slice(0, 500) });
      if (next) blockedUntil.set(name, Date.parse(next));
      ctx.log.warn(`channel ${name}: alert ${row.alert_id} ${row.kind} not delivered (attempt ${attempts}${next ? `, next at ${next}` : ', giving up'}): ${errorMessage(err)}`);
      return 'failed';
    }
  }

  /** A resolve that came while a raise notice was on its way did not count this channel as told: tell it now. */
  async function resolvedMeanwhile(row: OutboxRow): Promise<void> {
    const alert = await alertRow(db, Number(row.alert_id));
    if (alert?.state !== 'resolved' || Number(alert.episode) !== Number(row.episode)) return;
    const now = clock.iso();
    // The same wait as a resolve queues with (longer for a flapping alert).
    const delay = Number(alert.flaps) > 0 ? Math.max(rt.config.resolveDelay, rt.config.flapWindow) : rt.config.resolveDelay;
    await db('alerts_outbox').insert({
      alert_id: row.alert_id, channel: row.channel, level: row.level, episode: row.episode, kind: 'resolved',
      dedupe_key: `${row.alert_id}:${row.channel}:${row.level}:resolved:${row.episode}`,
      status: 'pending', attempts: 0, next_attempt_at: new Date(clock.nowMs() + delay).toISOString(), created_at: now,
    }).onConflict('dedupe_key').ignore();
    more.add(row.channel);
  }

  const due = (channel?: string) => {
    const q = db('alerts_outbox').whereIn('status', ['pending', 'failed']).whereNotNull('next_attempt_at')
      .andWhere('next_attempt_at', '<=', new Date(clock.nowMs()).toISOString());
    if (channel !== undefined) q.andWhere({ channel });
    return q.orderBy('id').limit(500) as Promise<OutboxRow[]>;
  };

  /** One channel's rows in order until none is due; stops at a failure (the backoff blocks the channel). */
  function runChannel(name: string): Promise<void> {
    const run = (async () => {
      try {
        // Its own look, not the caller's: only this loop sends the channel's rows, so what it reads is not stale.
        let list = await due(name);
        while (list.length) {
          if ((blockedUntil.get(name) ?? 0) > clock.nowMs()) return;
          blockedUntil.delete(name);
          for (const row of list) if ((await deliverRow(row)) === 'failed') return;
          // Look until nobody flagged the channel during the last look: whoever flagged it saw rows this loop must send.
          do {
            more.delete(name);
            list = await due(name);
          } while (!list.length && more.has(name));
        }
      } finally {
        busy.delete(name);
        more.delete(name);
      }
    })();
    busy.set(name, run);
    return run;
  }

  async function deliverOnce(): Promise<void> {
    const rows = await due();
    await Promise.all([...new Set(rows.map((r) => r.channel))].map((name) => {
      const running = busy.get(name);
      if (!running) return runChannel(name);
      // Its loop looks again before it ends, so these rows go out without waiting for the next job.
      more.add(name);
      return running;
    }));
  }

  return {
    /** Delivers what is due; a channel already sending picks up new rows itself, the others start at once. */
    deliver(): Promise<void> {
      const pass = deliverOnce().finally(() => passes.delete(pass));
      passes.add(pass);
      return pass;
    },

    /** Sends a test message now (not through the retry queue) and records the outcome. */
    async test(name: string, by: string): Promise<{ delivered: boolean; error: string | null; ms: number }> {
      const ch = rt.channels.get(name)!;
      const now = clock.iso();
      const key = `test:${name}:${clock.nowMs()}:${Math.random().toString(36).slice(2, 8)}`;
      const alert: AlertView = {
        id: 0, severity: 'info', kind: 'test', chargerId: null, connectorId: null, action: null,
        message: `Test message requested by ${by}.`, state: 'open', raisedAt: now, since: now,
        acknowledgedAt: null, acknowledgedBy: null, resolvedAt: null, count: 1,
      };
      const started = Date.now();
      let error: string | null = null;
      try {
        if (!ch.sender) throw new Error('channel is not started');
        const notice = await composeNotice(rt, { kind: 'test', key, level: 0, channel: name, alert });
        await withTimeout(ch.sender.send(notice), ch.config.timeout + 2000, `sending to ${name}`);
      } catch (err) {
        error = errorMessage(err);
      }
      await db('alerts_outbox').insert({
        alert_id: null, channel: name, recipient: by, level: 0, episode: 0, kind: 'test', dedupe_key: key,
        status: error ? 'failed' : 'sent', attempts: 1, next_attempt_at: null, last_error: error,
        created_at: now, sent_at: error ? null : clock.iso(), last_attempt_at: now,
      });
      return { delivered: !error, error, ms: Date.now() - started };
    },

    async idle(): Promise<void> {
      while (passes.size || busy.size) await Promise.allSettled([...passes, ...busy.values()]);
    },
  };
}

export type Delivery = ReturnType<typeof createDelivery>;
