import { Type } from '@sinclair/typebox';
import { ApiError } from '../../core/errors.js';
import { urlsToOrigins } from '../../core/redact.js';
import { STAFF, type RouteSpec } from '../../core/types.js';
import { ackPage, verifyAck, type AckClaim } from './ack-link.js';
import type { Engine } from './engine.js';
import type { Delivery } from './outbox.js';
import {
  alertRow, cancelPending, details, toDelivery, toHistoryEntry, toMaintenance, toView,
  type AlertRow, type HistoryRow, type MaintenanceRow, type OutboxRow, type Runtime,
} from './store.js';
import { formatLocal } from './time.js';

const IdParam = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const ACKERS: Array<'technician' | 'installer'> = ['technician', 'installer'];
const AckToken = Type.Object({ token: Type.String({ minLength: 1, maxLength: 1000 }) });
const StateQ = Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('resolved')]);
const DeliveryStatus = Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('failed'), Type.Literal('cancelled')]);

export function alertRoutes(rt: Runtime, engine: Engine, delivery: Delivery): RouteSpec[] {
  const { ctx } = rt;
  const db = ctx.db;
  const clock = ctx.core.clock;
  const types = new Map([...rt.channels].map(([name, ch]) => [name, ch.config.type]));
  const html = (h: Parameters<RouteSpec['handler']>[1], code: number, title: string, lines: string[], button?: string) =>
    h.response(ackPage(title, lines, `${ctx.core.publicUrl.replace(/\/+$/, '')}/#/p/alerts`, button)).code(code).type('text/html; charset=utf-8');

  type AckPage = { code: number; title: string; lines: string[] };
  /** An ack link's alert, still open; or the page that says why there is nothing to acknowledge. */
  const checkAckLink = async (token: string): Promise<{ page: AckPage } | { claim: AckClaim; row: AlertRow }> => {
    const page = (code: number, title: string, lines: string[]) => ({ page: { code, title, lines } });
    const claim = verifyAck(rt.secret(), token);
    if (!claim) return page(404, 'Unknown link', ['This acknowledgement link is not valid.']);
    if (claim.e < clock.nowMs()) return page(410, 'Link expired', ['This acknowledgement link has expired. Acknowledge the alert in ChargeKeeper instead.']);
    if (await db('alerts_ack_links').where({ nonce: claim.n }).first()) return page(410, 'Link already used', ['This acknowledgement link was already used.']);
    const row = await alertRow(db, claim.a);
    if (!row) return page(404, 'Unknown alert', [`Alert #${claim.a} does not exist any more.`]);
    const tz = ctx.core.site.timezone;
    if (row.state === 'resolved') return page(200, 'Already resolved', [`Alert #${row.id} (${row.message}) was resolved at ${formatLocal(row.resolved_at as string, tz)}.`]);
    if (row.state === 'acknowledged') {
      return page(200, 'Already acknowledged', [`Alert #${row.id} was acknowledged by ${row.acknowledged_by} at ${formatLocal(row.acknowledged_at as string, tz)}.`]);
    }
    return { claim, row };
  };

  return [
    {
      method: 'GET', path: '/alerts', roles: STAFF, summary: 'Alerts, open first, then acknowledged, then resolved; newest first',
      query: Type.Object({
        state: Type.Optional(StateQ),
        chargerId: Type.Optional(Type.String()),
        kind: Type.Optional(Type.String()),
        limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }),
      }),
      handler: async ({ query }) => {
        // Every alert, from the moment it is raised; a charger grouped into an outage says so (groupedInto).
        const q = db<AlertRow>('alerts_alerts')
          .orderByRaw("case state when 'open' then 0 when 'acknowledged' then 1 else 2 end")
          .orderBy('id', 'desc').limit(query.limit);
        if (query.state) q.andWhere({ state: query.state });
        if (query.chargerId) q.andWhere({ charger_id: query.chargerId });
        if (query.kind) q.andWhere({ kind: query.kind });
        return (await q).map((r) => ({
          ...toView(r), chargers: engine.members(r), groupedInto: r.folded_into === null || r.folded_into === undefined ? null : Number(r.folded_into),
        }));
      },
    },
    {
      method: 'GET', path: '/alerts/deliveries', roles: STAFF, summary: 'Notifications and their delivery status, newest first',
      query: Type.Object({
        status: Type.Optional(DeliveryStatus),
        channel: Type.Optional(Type.String()),
        alertId: Type.Optional(Type.Integer({ minimum: 1 })),
        limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }),
      }),
      handler: async ({ query }) => {
        const q = db<OutboxRow>('alerts_outbox').orderBy('id', 'desc').limit(query.limit);
        if (query.status) q.where({ status: query.status });
        if (query.channel) q.where({ channel: query.channel });
        if (query.alertId) q.where({ alert_id: query.alertId });
        return (await q).map((r) => toDelivery(r, types));
      },
    },
    {
      method: 'GET', path: '/alerts/channels', roles: STAFF,
      summary: 'Configured channels with their health and last delivery; targets (addresses, URLs) only for installers and admins, never secrets',
      handler: async ({ principal }) => Promise.all([...rt.channels].map(async ([name, ch]) => {
        const seesTargets = principal!.role === 'admin' || principal!.role === 'installer';
        const last = await db<OutboxRow>('alerts_outbox').where({ channel: name }).whereNotNull('last_attempt_at').orderBy('last_attempt_at', 'desc').orderBy('id', 'desc').first();
        const waiting = (await db('alerts_outbox').where({ channel: name }).whereIn('status', ['pending', 'failed']).whereNotNull('next_attempt_at').count({ n: '*' }).first()) as { n: number | string } | undefined;
        return {
          name, type: ch.config.type, target: seesTargets ? ch.target : null, quietHours: ch.config.quietHours ?? null,
          waiting: Number(waiting?.n ?? 0),
          lastDelivery: last ? {
            at: last.last_attempt_at, status: last.status, kind: last.kind, alertId: last.alert_id ?? null,
            error: last.last_error ? (seesTargets ? String(last.last_error) : urlsToOrigins(String(last.last_error))) : null,
          } : null,
        };
      })),
    },
    {
      method: 'POST', path: '/alerts/channels/{name}/test', roles: ACKERS, summary: 'Send a test message through a channel now; answers delivered or the error (502)',
      params: Type.Object({ name: Type.String({ minLength: 1 }) }),
      handler: async ({ params, principal }) => {
        if (!rt.channels.has(params.name)) throw ApiError.notFound(`channel ${params.name}`);
        const out = await delivery.test(params.name, principal!.username);
        if (!out.delivered) throw new ApiError(502, `channel ${params.name}: ${out.error}`);
        return { channel: params.name, delivered: true, ms: out.ms };
      },
    },
    {
      method: 'GET', path: '/alerts/maintenance', roles: STAFF, summary: 'Maintenance windows (active ones; ?all=true for past ones too)',
      query: Type.Object({ all: Type.Boolean({ default: false }), chargerId: Type.Optional(Type.String()) }),
      handler: async ({ query }) => {
        const now = clock.iso();
        const q = db<MaintenanceRow>('alerts_maintenance').orderBy('until', 'desc');
        if (!query.all) q.where('until', '>', now);
        if (query.chargerId) q.where({ charger_id: query.chargerId });
        return (await q).map((r) => toMaintenance(r, now));
      },
    },
    {
      method: 'POST', path: '/alerts/maintenance', roles: ACKERS, summary: 'Mute a charger\'s alerts until a time',
      body: Type.Object({
        chargerId: Type.String({ minLength: 1, maxLength: 64 }),
        until: Type.String({ minLength: 1, description: 'an ISO 8601 date-time' }),
        reason: Type.Optional(Type.String({ maxLength: 500 })),
      }, { additionalProperties: false }),
      handler: async ({ payload, principal }, h) => {
        const until = Date.parse(payload.until);
        if (Number.isNaN(until)) throw ApiError.badRequest([{ field: 'until', message: `expected an ISO 8601 date-time, got ${JSON.stringify(payload.until)}` }]);
        if (until <= clock.nowMs()) throw ApiError.badRequest([{ field: 'until', message: 'expected a time in the future' }]);
        const now = clock.iso();
        const row = { charger_id: payload.chargerId, until: new Date(until).toISOString(), reason: payload.reason ?? null, created_by: principal!.username, created_at: now };
        const [out] = await db('alerts_maintenance').insert(row).returning('id');
        const id = Number(typeof out === 'object' && out !== null ? (out as { id: unknown }).id : out);
        await rt.serial(async () => {
          const open = await db<AlertRow>('alerts_alerts').where({ charger_id: payload.chargerId }).whereNot({ state: 'resolved' }).select('id');
          for (const a of open) await cancelPending(db, Number(a.id), ['raised', 'repeat']);
        });
        await ctx.core.audit.record(principal!.username, 'alert.maintenance', payload.chargerId, { until: row.until, reason: row.reason });
        rt.kick();
        return h.response({ id, chargerId: row.charger_id, until: row.until, reason: row.reason, createdBy: row.created_by, createdAt: now, active: true }).code(201);
      },
    },
    {
      method: 'DELETE', path: '/alerts/maintenance/{id}', roles: ACKERS, summary: 'End a maintenance window now',
      params: IdParam,
      handler: async ({ params, principal }, h) => {
        const row = await db<MaintenanceRow>('alerts_maintenance').where({ id: params.id }).first();
        if (!row) throw ApiError.notFound(`maintenance window ${params.id}`);
        const now = clock.iso();
        await db('alerts_maintenance').where({ id: params.id }).delete();
        // Escalation of its open alerts starts now rather than at the old end.
        await rt.serial(async () => {
          await db<AlertRow>('alerts_alerts').where({ charger_id: row.charger_id }).whereNot({ state: 'resolved' }).andWhere('notify_from', '>', now).update({ notify_from: now });
        });
        await ctx.core.audit.record(principal!.username, 'alert.maintenance.end', row.charger_id, { id: params.id });
        rt.kick();
        return h.response().code(204);
      },
    },
    {
      method: 'GET', path: '/alerts/ack/{token}', roles: 'public', summary: 'Acknowledgement link sent in messages: a small HTML page asking to confirm (opening it acknowledges nothing)',
      params: AckToken,
      handler: async ({ params }, h) => {
        const checked = await checkAckLink(params.token);
        if ('page' in checked) return html(h, checked.page.code, checked.page.title, checked.page.lines);
        const { row } = checked;
        return html(h, 200, `Acknowledge alert #${row.id}?`, [`${row.message}`, 'Acknowledging stops the escalation to the next people.'], 'Acknowledge');
      },
    },
    {
      method: 'POST', path: '/alerts/ack/{token}', roles: 'public', summary: 'Confirms a one-time acknowledgement link; answers a small HTML page',
      params: AckToken,
      // The confirm page's plain HTML form posts here; the link's token is the authority, the body is ignored.
      rawPayload: { maxBytes: 4096, allow: ['application/x-www-form-urlencoded', 'application/json', 'text/plain'] },
      handler: async ({ params }, h) => {
        const checked = await checkAckLink(params.token);
        if ('page' in checked) return html(h, checked.page.code, checked.page.title, checked.page.lines);
        const { claim } = checked;
        try {
          await db('alerts_ack_links').insert({ nonce: claim.n, alert_id: claim.a, used_at: clock.iso() });
        } catch {
          return html(h, 410, 'Link already used', ['This acknowledgement link was already used.']);
        }
        const a = await engine.acknowledge(claim.a, `link:${claim.c}`, 'link');
        return html(h, 200, 'Acknowledged', [`Alert #${a.id}: ${a.message}`, 'Escalation stopped. Thank you.']);
      },
    },
    {
      method: 'GET', path: '/alerts/{id}', roles: STAFF, summary: 'One alert with its timeline: raised, notified whom via what (status), acknowledged, resolved',
      params: IdParam,
      handler: async ({ params }) => {
        const row = await alertRow(db, params.id);
        if (!row) throw ApiError.notFound(`alert ${params.id}`);
        const history = await db<HistoryRow>('alerts_history').where({ alert_id: params.id }).orderBy('id');
        const outbox = await db<OutboxRow>('alerts_outbox').where({ alert_id: params.id }).orderBy('id');
        const deliveries = outbox.map((r) => toDelivery(r, types));
        const timeline = [
          ...history.map(toHistoryEntry),
          ...deliveries.map((d) => ({ at: d.sentAt ?? d.lastAttemptAt ?? d.createdAt, what: 'notified', detail: d })),
        ].sort((x, y) => x.at.localeCompare(y.at));
        const members = row.kind === 'power-outage'
          ? (await db<AlertRow>('alerts_alerts').where({ folded_into: params.id }).orderBy('charger_id')).map(toView)
          : undefined;
        return { ...toView(row), chargers: details(row).chargers, members, foldedInto: row.folded_into ?? null, timeline, deliveries };
      },
    },
    {
      method: 'POST', path: '/alerts/{id}/ack', roles: ACKERS, summary: 'Acknowledge an alert: stops escalation',
      params: IdParam,
      handler: async ({ params, principal }) => engine.acknowledge(params.id, principal!.username, 'api'),
    },
    {
      method: 'POST', path: '/alerts/{id}/resolve', roles: ACKERS, summary: 'Resolve an alert by hand (for problems no finding clears)',
      params: IdParam,
      handler: async ({ params, principal }) => engine.resolve(params.id, principal!.username),
    },
  ];
}
