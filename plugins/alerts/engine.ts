import type { Severity } from '../../core/events.js';
import { ApiError } from '../../core/errors.js';
import type { AlertView } from './channels/channel.js';
import { applyRules } from './config.js';
import {
  addHistory, alertRow, cancelPending, details, insertId, mutedUntil, toAlert, toView,
  type AlertRow, type OutboxRow, type Runtime,
} from './store.js';
import { formatSpan } from './time.js';

/** A problem as the rules see it: from a finding or from a core event. */
export interface Problem {
  /** Same problem = same key, e.g. "finding:offline:CP1:". */
  key: string;
  kind: string;
  severity: Severity;
  chargerId: string | null;
  connectorId: number | null;
  findingId: number | null;
  message: string;
  action: string | null;
  /** When the problem started, ISO. */
  since: string;
}

// Every alert is shown from the moment it is raised; `held` only survives in rows written by older versions.
const visible = (r: AlertRow) => !r.held;

/**
 * Turns problems into alerts: one problem = one alert (repeats update it,
 * flaps re-open it), offline chargers fold into one power-outage alert,
 * clearing resolves and queues resolved notices to whoever was told.
 */
export function createEngine(rt: Runtime) {
  const { ctx } = rt;
  const db = ctx.db;
  const clock = ctx.core.clock;
  const cfg = rt.config;

  const emitAlert = (r: AlertRow, event: 'alert.raised' | 'alert.updated' | 'alert.resolved') => ctx.emit(event, toAlert(r));

  async function create(p: Problem, severity: Severity, hold: boolean): Promise<AlertRow> {
    // One reading of the clock: a notice that does not wait has notify_from equal to raised_at, which is how
    // escalation and outage folding tell it from a delayed one (a millisecond between two readings made it "delayed").
    const nowMs = clock.nowMs();
    const now = new Date(nowMs).toISOString();
    const muted = await mutedUntil(db, p.chargerId, now);
    // Shown at once; only the notice may wait: a charger that falls right after another one waits the outage
    // window (it may be the same outage), and the outage's own notice waits it to count the chargers it gathers.
    const wait = hold || p.kind === 'power-outage' ? cfg.outage.within : 0;
    const holdUntil = new Date(nowMs + wait).toISOString();
    const notifyFrom = muted && muted > holdUntil ? muted : holdUntil;
    const id = await insertId(db, 'alerts_alerts', {
      problem_key: p.key, kind: p.kind, severity, charger_id: p.chargerId, connector_id: p.connectorId,
      finding_id: p.findingId, message: p.message, action: p.action, details: null, state: 'open', since: p.since,
      raised_at: now, last_raised_at: now, raise_count: 1, flaps: 0, episode: 0, notify_from: notifyFrom,
      level: -1, repeats: 0, held: false, announced: true, folded_into: null,
    });
    await addHistory(db, id, now, 'raised', { severity, message: p.message, ...(hold ? { noticeWaitsUntil: holdUntil } : {}), ...(muted ? { mutedUntil: muted } : {}) });
    const row = (await alertRow(db, id))!;
    emitAlert(row, 'alert.raised');
    return row;
  }

  /** The problem came back within the flap window: same alert, and a new round of notices only if it was announced resolved. */
  async function reopen(last: AlertRow, p: Problem, severity: Severity): Promise<AlertRow> {
    const now = clock.iso();
    const id = Number(last.id);
    const episode = Number(last.episode);
    const resolvedSent = await db<OutboxRow>('alerts_outbox').where({ alert_id: id, kind: 'resolved', status: 'sent', episode }).first('id');
    await cancelPending(db, id, ['resolved']);
    const fresh = Boolean(resolvedSent);
    const muted = fresh ? await mutedUntil(db, p.chargerId, now) : null;
    await db<AlertRow>('alerts_alerts').where({ id }).update({
      state: fresh || !last.acknowledged_at ? 'open' : 'acknowledged', resolved_at: null,
      flaps: Number(last.flaps) + 1, raise_count: Number(last.raise_count) + 1, last_raised_at: now,
      message: p.message, action: p.action ?? last.action, severity, finding_id: p.findingId ?? last.finding_id,
      ...(fresh ? { episode: episode + 1, notify_from: muted ?? now, level: -1, repeats: 0, acknowledged_at: null, acknowledged_by: null } : {}),
    });
    await addHistory(db, id, now, 'reopened', { flaps: Number(last.flaps) + 1, newRound: fresh });
    const row = (await alertRow(db, id))!;
    if (visible(row)) emitAlert(row, 'alert.updated');
    return row;
  }

  /** Opens, updates or re-opens the alert of a problem; null when the rules ignore it. */
  async function openProblem(p: Problem, hold = false): Promise<AlertRow | null> {
    const severity = applyRules(cfg, p);
    if (!severity) return null;
    const last = await db<AlertRow>('alerts_alerts').where({ problem_key: p.key }).orderBy('id', 'desc').first();
    // The bus orders events per handler, not across them: a raise or update can arrive after the clear of the
    // same finding (ids only grow, and a finding once cleared never comes back). Such a late event is stale.
    if (last && p.findingId !== null && (p.findingId === last.cleared_finding_id || (last.finding_id != null && p.findingId < Number(last.finding_id)))) {
      return last;
    }
    if (last && last.state !== 'resolved') {
      const changed = last.message !== p.message || last.severity !== severity;
      await db<AlertRow>('alerts_alerts').where({ id: last.id }).update({
        message: p.message, severity, action: p.action ?? last.action, last_raised_at: clock.iso(),
        raise_count: Number(last.raise_count) + 1, finding_id: p.findingId ?? last.finding_id,
      });
      const row = (await alertRow(db, Number(last.id)))!;
      if (changed) {
        // Now critical: notices held for quiet hours go out at once.
        if (severity === 'critical' && last.severity !== 'critical') {
          await db<OutboxRow>('alerts_outbox').where({ alert_id: last.id, status: 'pending' }).whereIn('kind', ['raised', 'repeat'])
            .whereNotNull('next_attempt_at').update({ next_attempt_at: clock.iso() });
        }
        await addHistory(db, Number(last.id), clock.iso(), 'updated', { severity, message: p.message });
        if (visible(row)) emitAlert(row, 'alert.updated');
      }
      return row;
    }
    if (last?.resolved_at && clock.nowMs() - Date.parse(last.resolved_at) <= cfg.flapWindow) return reopen(last, p, severity);
    return create(p, severity, hold);
  }

  /**
   * Whether this charger's offline notice should wait the outage window: the site is big enough for an outage
   * and another charger (not in maintenance) fell within the window, so this one may be part of it. The first
   * charger to fall is never delayed.
   */
  async function mayBeOutage(p: Problem): Promise<boolean> {
    const min = cfg.outage.minChargers;
    if (!min || (await ctx.core.chargers.list()).length < min) return false;
    const now = clock.iso();
    const after = new Date(clock.nowMs() - cfg.outage.within).toISOString();
    const others = await db<AlertRow>('alerts_alerts').where({ kind: 'offline' }).whereNot({ state: 'resolved' })
      .whereNot({ problem_key: p.key }).andWhere('last_raised_at', '>=', after).select('charger_id');
    for (const r of others) if (!(await mutedUntil(db, r.charger_id, now))) return true;
    return false;
  }

  async function outageMessage(chargers: string[]): Promise<string> {
    const total = (await ctx.core.chargers.list()).length;
    const list = chargers.length > 30 ? `${chargers.slice(0, 30).join(', ')} and ${chargers.length - 30} more` : chargers.join(', ');
    return `Site outage: ${chargers.length} of ${total} chargers offline, likely power or network. `
      + `Their offline alerts are grouped into this one (one notice for all): ${list}.`;
  }

  async function fold(outage: AlertRow, members: AlertRow[]): Promise<void> {
    const now = clock.iso();
    const oid = Number(outage.id);
    for (const m of members) {
      await db<AlertRow>('alerts_alerts').where({ id: m.id }).update({ folded_into: oid, held: false });
      // The first charger's notice stays (it was not delayed); the others' waiting notices are replaced by the outage's.
      if (m.notify_from > m.raised_at) await cancelPending(db, Number(m.id), ['raised', 'repeat']);
      await addHistory(db, Number(m.id), now, 'folded', { into: oid });
    }
    const all = await db<AlertRow>('alerts_alerts').where({ folded_into: oid }).select('charger_id');
    const chargers = [...new Set(all.map((r) => r.charger_id).filter((c): c is string => Boolean(c)))].sort();
    const since = (await db<AlertRow>('alerts_alerts').where({ folded_into: oid }).min({ s: 'since' }).first()) as { s?: string } | undefined;
    await db<AlertRow>('alerts_alerts').where({ id: oid }).update({
      message: await outageMessage(chargers), details: JSON.stringify({ chargers }), ...(since?.s ? { since: since.s } : {}),
    });
    await addHistory(db, oid, now, 'updated', { chargers });
    emitAlert((await alertRow(db, oid))!, 'alert.updated');
  }

  /** A new offline alert: join a running outage, or start one when enough chargers went offline together. */
  async function checkOutage(row: AlertRow): Promise<void> {
    const min = cfg.outage.minChargers;
    if (!min || row.folded_into) return;
    // A charger switched off for planned work is no sign of a power cut: it neither starts nor joins an outage.
    const now = clock.iso();
    if (await mutedUntil(db, row.charger_id, now)) return;
    const running = await db<AlertRow>('alerts_alerts').where({ kind: 'power-outage' }).whereNot({ state: 'resolved' }).orderBy('id', 'desc').first();
    if (running) return fold(running, [row]);
    const after = new Date(clock.nowMs() - cfg.outage.within).toISOString();
    const candidates = await db<AlertRow>('alerts_alerts').where({ kind: 'offline' }).whereNot({ state: 'resolved' })
      .whereNull('folded_into').andWhere('last_raised_at', '>=', after);
    const group: AlertRow[] = [];
    for (const r of candidates) if (!(await mutedUntil(db, r.charger_id, now))) group.push(r);
    // Offline alerts always name their charger.
    const chargers = [...new Set(group.flatMap((r) => (r.charger_id === null ? [] : [r.charger_id])))];
    if (chargers.length < min) return;
    const outage = await openProblem({
      key: 'power-outage', kind: 'power-outage', severity: 'critical', chargerId: null, connectorId: null, findingId: null,
      message: await outageMessage(chargers.sort()), action: null,
      since: group.map((r) => r.since).sort()[0] ?? clock.iso(),
    });
    if (outage) await fold(outage, group);
  }

  async function resolveRow(row: AlertRow, by: string, findingId: number | null = null): Promise<void> {
    const now = clock.iso();
    const id = Number(row.id);
    await db<AlertRow>('alerts_alerts').where({ id }).update({ state: 'resolved', resolved_at: now, ...(findingId !== null ? { cleared_finding_id: findingId } : {}) });
    await addHistory(db, id, now, 'resolved', { by });
    await cancelPending(db, id, ['raised', 'repeat']);
    // A resolved notice goes to each channel that was told, after the resolve delay (a flapping alert waits the flap window).
    // A charger grouped into an outage gets none of its own: the outage's one all-clear speaks for every charger in it,
    // including the first one, whose own notice went out before the outage was known.
    const members = row.kind === 'power-outage' ? (await db<AlertRow>('alerts_alerts').where({ folded_into: id }).select('id')).map((r) => Number(r.id)) : [];
    const told = row.folded_into ? [] : (await db<OutboxRow>('alerts_outbox')
      .where((w) => w.where({ alert_id: id, episode: row.episode }).orWhereIn('alert_id', members))
      .where({ status: 'sent' }).whereIn('kind', ['raised', 'repeat'])
      .groupBy('channel').select('channel').max({ level: 'level' })) as Array<{ channel: string; level: number }>;
    const delay = Number(row.flaps) > 0 ? Math.max(cfg.resolveDelay, cfg.flapWindow) : cfg.resolveDelay;
    const at = new Date(clock.nowMs() + delay).toISOString();
    for (const t of told) {
      const key = `${id}:${t.channel}:${t.level}:resolved:${row.episode}`;
      const existing = await db<OutboxRow>('alerts_outbox').where({ dedupe_key: key }).first();
      if (existing?.status === 'cancelled') {
        await db<OutboxRow>('alerts_outbox').where({ id: existing.id }).update({ status: 'pending', next_attempt_at: at, attempts: 0, last_error: null });
      } else if (!existing) {
        await db<OutboxRow>('alerts_outbox').insert({
          alert_id: id, channel: t.channel, level: t.level, episode: row.episode, kind: 'resolved', dedupe_key: key,
          status: 'pending', attempts: 0, next_attempt_at: at, created_at: now,
        // A resolve racing another for the same alert (an operator and a clear) finds the row already there:
        // PostgreSQL's unique violation was a 500, the second notice is a no-op instead.
        }).onConflict('dedupe_key').ignore();
      }
    }
    const after = (await alertRow(db, id))!;
    emitAlert(after, 'alert.resolved');

    // The outage is over once fewer than minChargers of its chargers are still offline; those left become alerts of their own.
    if (row.folded_into) {
      const outage = await alertRow(db, Number(row.folded_into));
      if (outage && outage.state !== 'resolved') {
        const left = await db<AlertRow>('alerts_alerts').where({ folded_into: outage.id }).whereNot({ state: 'resolved' });
        if (left.length < cfg.outage.minChargers) {
          await resolveRow(outage, 'power back');
          // Still offline after the power came back: each is its own problem now, and its escalation starts over.
          for (const m of left) {
            await db<AlertRow>('alerts_alerts').where({ id: m.id }).update({ folded_into: null, held: false, notify_from: now, level: -1, repeats: 0 });
            await addHistory(db, Number(m.id), now, 'unfolded', { from: Number(outage.id) });
          }
        }
      }
    }
  }

  return {
    /** A finding or event says the problem is (still) there. */
    async raise(p: Problem): Promise<void> {
      await rt.serial(async () => {
        const hold = p.kind === 'offline' && (await mayBeOutage(p));
        const row = await openProblem(p, hold);
        if (row && p.kind === 'offline' && row.state !== 'resolved') await checkOutage(row);
      });
      rt.kick();
    },

    /** The problem is gone: resolve its alert (unless the clear is about an older finding than the alert's). */
    async clear(key: string, findingId: number | null = null): Promise<void> {
      await rt.serial(async () => {
        const row = await db<AlertRow>('alerts_alerts').where({ problem_key: key }).whereNot({ state: 'resolved' }).orderBy('id', 'desc').first();
        if (!row) return;
        if (findingId !== null && row.finding_id != null && findingId < Number(row.finding_id)) return;
        await resolveRow(row, 'cleared', findingId);
      });
      rt.kick();
    },

    /** Stops escalation; records who and how. Throws 404/409 as ApiError. */
    async acknowledge(id: number, by: string, via: string): Promise<AlertView> {
      const out = await rt.serial(async () => {
        const row = await alertRow(db, id);
        if (!row) throw ApiError.notFound(`alert ${id}`);
        if (row.state === 'resolved') throw ApiError.conflict(`alert ${id} is already resolved`);
        if (row.state === 'acknowledged') return { row, changed: false };
        const now = clock.iso();
        await db<AlertRow>('alerts_alerts').where({ id }).update({ state: 'acknowledged', acknowledged_at: now, acknowledged_by: by });
        await cancelPending(db, id, ['raised', 'repeat']);
        await addHistory(db, id, now, 'acknowledged', { by, via });
        return { row: (await alertRow(db, id))!, changed: true };
      });
      if (out.changed) {
        ctx.emit('alert.acknowledged', { ...toAlert(out.row), by });
        await ctx.core.audit.record(by, 'alert.acknowledge', String(id), { kind: out.row.kind, chargerId: out.row.charger_id ?? null, via });
      }
      return toView(out.row);
    },

    /** An operator closes an alert no finding will clear (plugin failures, rejected chargers). */
    async resolve(id: number, by: string): Promise<AlertView> {
      const row = await rt.serial(async () => {
        const r = await alertRow(db, id);
        if (!r) throw ApiError.notFound(`alert ${id}`);
        if (r.state !== 'resolved') await resolveRow(r, by);
        return (await alertRow(db, id))!;
      });
      await ctx.core.audit.record(by, 'alert.resolve', String(id), { kind: row.kind, chargerId: row.charger_id ?? null });
      rt.kick();
      return toView(row);
    },

    /** Members of a power outage (charger ids), for notices and the API. */
    members(row: AlertRow): string[] | undefined {
      return row.kind === 'power-outage' ? details(row).chargers ?? [] : undefined;
    },
  };
}

export type Engine = ReturnType<typeof createEngine>;
