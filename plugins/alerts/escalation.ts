import type { Knex } from 'knex';
import { ladder } from './config.js';
import { addHistory, mutedChargers, toAlert, type AlertRow, type OutboxRow, type Runtime } from './store.js';

/**
 * One pass of the escalation ladder, run by the `escalate` job and after
 * every change: releases held alerts whose grouping window ended, and
 * queues each due level (and repeat) of every open alert in the outbox.
 * Queuing is idempotent (unique de-dup key), so a crash between two steps
 * never sends a level twice.
 */
export async function escalate(rt: Runtime): Promise<void> {
  const { ctx } = rt;
  const db = ctx.db;
  const nowMs = ctx.core.clock.nowMs();
  const now = new Date(nowMs).toISOString();
  const levels = ladder(rt.config);

  const held = await db<AlertRow>('alerts_alerts').where({ held: true }).whereNot({ state: 'resolved' }).whereNull('folded_into')
    .andWhere('notify_from', '<=', now);
  for (const row of held) {
    await db<AlertRow>('alerts_alerts').where({ id: row.id }).update({ held: false, announced: true });
    await addHistory(db, Number(row.id), now, 'released');
    ctx.emit(row.announced ? 'alert.updated' : 'alert.raised', toAlert({ ...row, held: false }));
  }

  // A charger grouped into an outage is told about no more, except the first to fall: its first notice is
  // not held back by the outage that formed after it (notify_from = raised_at marks a notice that did not wait).
  const open = await db<AlertRow>('alerts_alerts').where({ state: 'open', held: false })
    .andWhere((w) => w.whereNull('folded_into').orWhere((f) => f.where({ level: -1 }).andWhereRaw('notify_from <= raised_at')));
  // One query for the pass, not one per open alert (hundreds of chargers alerting at once).
  const mutes = open.length ? await mutedChargers(db, now) : new Map<string, string>();
  for (const row of open) {
    const id = Number(row.id);
    const muted = row.charger_id ? mutes.get(row.charger_id) ?? null : null;
    if (muted) {
      // Escalation starts over when the maintenance window ends.
      if (row.notify_from < muted) {
        await db('alerts_alerts').where({ id }).update({ notify_from: muted, level: -1, repeats: 0 });
        await addHistory(db, id, now, 'muted', { until: muted });
      }
      continue;
    }
    const start = Date.parse(row.notify_from);
    let level = Number(row.level);
    let repeats = Number(row.repeats);
    const queue: Array<{ level: number; kind: 'raised' | 'repeat'; n: number }> = [];
    const top = row.folded_into ? 0 : levels.length - 1;
    while (level + 1 <= top && start + levels[level + 1]!.after <= nowMs) {
      level += 1;
      repeats = 0;
      queue.push({ level, kind: 'raised', n: 0 });
    }
    const at = levels[level];
    if (rt.config.repeat && at && !row.folded_into) {
      // Only the latest reminder: after downtime one reminder says enough.
      const n = Math.floor((nowMs - start - at.after) / rt.config.repeat);
      if (n > repeats) {
        repeats = n;
        queue.push({ level, kind: 'repeat', n });
      }
    }
    if (!queue.length) continue;
    await db.transaction(async (trx) => {
      for (const q of queue) await enqueue(trx, rt, row, levels[q.level]!.channels, q, now);
      await trx<AlertRow>('alerts_alerts').where({ id }).update({ level, repeats });
    });
  }
}

async function enqueue(
  db: Knex, rt: Runtime, row: AlertRow, channels: Array<{ channel: string; recipient: string | null }>,
  q: { level: number; kind: 'raised' | 'repeat'; n: number }, now: string,
): Promise<void> {
  const episode = Number(row.episode);
  for (const { channel, recipient } of channels) {
    // A reminder to a channel that has not even received the last notice (peer down, quiet hours) would only pile up.
    if (q.kind === 'repeat' && await db<OutboxRow>('alerts_outbox').where({ alert_id: row.id, channel }).whereIn('kind', ['raised', 'repeat'])
      .whereIn('status', ['pending', 'failed']).whereNotNull('next_attempt_at').first('id')) continue;
    const key = `${row.id}:${channel}:${q.level}:${q.kind}:${episode}${q.kind === 'repeat' ? `.${q.n}` : ''}`;
    await db<OutboxRow>('alerts_outbox').insert({
      alert_id: row.id, channel, recipient, level: q.level, episode, kind: q.kind, dedupe_key: key,
      status: 'pending', attempts: 0, next_attempt_at: now, created_at: now,
    }).onConflict('dedupe_key').ignore();
  }
  rt.ctx.log.debug(`alert ${row.id}: level ${q.level} ${q.kind} queued for ${channels.map((c) => c.channel).join(', ')}`);
}
