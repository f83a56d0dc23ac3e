import { Type } from '@sinclair/typebox';
import { ApiError } from '../../errors.js';
import { hashPassword } from '../../passwords.js';
import { OcppServer } from '../../ocpp/server.js';
import { commandApiError } from '../../ocpp/send-error.js';
import { INSTALLER_ONLY_COMMANDS, SECURITY_CONFIG_KEYS, commandRefusal } from '../../ocpp/command-roles.js';
import { EDITIONS } from '../../ocpp/editions.js';
import { ROLES, STAFF, type RouteSpec } from '../../types.js';
import { countRows, pageAnswer, pageQuery, type Page } from '../paging.js';
import type { CoreRouteDeps } from './deps.js';

const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export function chargerRoutes(d: CoreRouteDeps): RouteSpec[] {
  const mustExist = async (id: string) => {
    const row = await d.chargers.row(id);
    if (!row) throw ApiError.notFound(`charger ${id}`);
    return row;
  };
  return [
    {
      method: 'GET', path: '/chargers', roles: [...ROLES], summary: 'Every known charger with live connection and connector status',
      handler: () => d.chargers.list(),
    },
    {
      method: 'GET', path: '/chargers/{id}', roles: STAFF, summary: 'One charger with boot info and open transactions',
      params: IdParam,
      handler: async ({ params }: { params: { id: string } }) => {
        const row = await mustExist(params.id);
        const base = (await d.chargers.get(params.id))!;
        // An OCPP 2.0.1 charger names its sessions with its own string (what RequestStopTransaction takes).
        const open = await d.db('transactions as t').leftJoin('ocpp201_transactions as m', 'm.transaction_id', 't.id')
          .where({ 't.charger_id': params.id }).whereNull('t.stopped_at').orderBy('t.id', 'desc').select('t.*', 'm.transaction_ref');
        return {
          ...base,
          serialNumber: row.serial_number ?? null, iccid: row.iccid ?? null, imsi: row.imsi ?? null,
          meterType: row.meter_type ?? null, meterSerialNumber: row.meter_serial_number ?? null,
          registeredAt: row.registered_at, lastBootAt: row.last_boot_at ?? null, lastHeartbeatAt: d.ocpp.lastHeartbeat(params.id) ?? row.last_heartbeat_at ?? null,
          lastRefusal: d.ocpp.lastRefusal(params.id) ?? null,
          bootStatus: row.boot_status ?? null, hasPassword: Boolean(row.password_hash),
          openTransactions: open.map((t: Record<string, unknown>) => ({
            id: t.id, connectorId: t.connector_id, idTag: t.id_tag, userId: t.user_id ?? null,
            startedAt: t.started_at, meterStartWh: Number(t.meter_start_wh),
            ...(t.transaction_ref != null ? { chargerTransactionId: t.transaction_ref } : {}),
          })),
        };
      },
    },
    {
      method: 'GET', path: '/chargers/{id}/status-history', roles: STAFF,
      summary: 'Status notifications of a charger, newest first. Paged: ?limit= (default 100, at most 1000), ?offset=; the total in X-Total-Count',
      params: IdParam,
      query: Type.Object({ ...pageQuery(), connectorId: Type.Optional(Type.Integer({ minimum: 0 })) }),
      handler: async ({ params, query }: { params: { id: string }; query: Page & { connectorId?: number } }, h) => {
        await mustExist(params.id);
        const q = d.db('status_notifications').where({ charger_id: params.id });
        if (query.connectorId !== undefined) q.andWhere({ connector_id: query.connectorId });
        const [rows, total] = await Promise.all([
          q.clone().orderBy('charger_time', 'desc').orderBy('id', 'desc').limit(query.limit).offset(query.offset),
          countRows(q),
        ]);
        return pageAnswer(h, rows.map((r: Record<string, unknown>) => ({
          connectorId: r.connector_id, status: r.status, errorCode: r.error_code, info: r.info ?? null,
          vendorErrorCode: r.vendor_error_code ?? null, at: r.charger_time, receivedAt: r.received_at,
        })), total);
      },
    },
    {
      method: 'PATCH', path: '/chargers/{id}', roles: ['installer'], summary: 'Rename a charger or set its security-profile-1 password (null clears it)',
      params: IdParam,
      body: Type.Object({
        name: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
        password: Type.Optional(Type.Union([Type.String({ minLength: 8, maxLength: 40 }), Type.Null()])),
      }, { additionalProperties: false }),
      handler: async ({ params, payload, principal }) => {
        await mustExist(params.id);
        const changes: Record<string, unknown> = {};
        if (payload.name !== undefined) changes.name = payload.name;
        if (payload.password !== undefined) changes.password_hash = payload.password === null ? null : await hashPassword(payload.password);
        if (Object.keys(changes).length) await d.db('chargers').where({ id: params.id }).update(changes);
        // A socket opened with the old password (or none) must not outlive the change.
        if (payload.password !== undefined) await d.ocpp.disconnect(params.id, 'password changed');
        await d.audit.record(principal!.username, 'charger.update', params.id, {
          ...(payload.name !== undefined ? { name: payload.name } : {}),
          ...(payload.password !== undefined ? { password: payload.password === null ? 'cleared' : 'set' } : {}),
        });
        return d.chargers.get(params.id);
      },
    },
    {
      method: 'DELETE', path: '/chargers/{id}', roles: ['installer'], summary: 'Forget a charger (its history stays)',
      params: IdParam,
      handler: async ({ params, principal }, h) => {
        await mustExist(params.id);
        await d.db('chargers').where({ id: params.id }).delete();
        await d.ocpp.disconnect(params.id, 'charger removed');
        await d.audit.record(principal!.username, 'charger.delete', params.id);
        d.bus.emit('charger.deleted', { chargerId: params.id, at: d.clock.iso(), by: principal!.username });
        return h.response().code(204);
      },
    },
    {
      method: 'POST', path: '/chargers/{id}/approve', roles: ['installer'], summary: 'Approve a pending charger, optionally setting its security-profile-1 password',
      params: IdParam,
      body: Type.Object({ password: Type.Optional(Type.String({ minLength: 8, maxLength: 40 })) }, { additionalProperties: false }),
      handler: async ({ params, payload, principal }) => {
        const row = await mustExist(params.id);
        const { password } = payload;
        if (password !== undefined) {
          await d.db('chargers').where({ id: params.id }).update({ password_hash: await hashPassword(password) });
          await d.audit.record(principal!.username, 'charger.update', params.id, { password: 'set' });
          // It connected without this password: it must come back with it (and then boots Accepted).
          await d.ocpp.disconnect(params.id, 'password set');
        }
        if (!row.approved) {
          await d.db('chargers').where({ id: params.id }).update({ approved: true });
          d.ocpp.setApproved(params.id, true);
          await d.audit.record(principal!.username, 'charger.approve', params.id);
          d.bus.emit('charger.approved', { chargerId: params.id, at: d.clock.iso() });
          // Ask a connected charger to boot again now rather than at its next retry.
          if (d.ocpp.isOnline(params.id)) {
            void d.chargers.commands.trigger(params.id, { message: 'boot' }, { actor: 'plugin:core', timeoutMs: 10_000 }).catch(() => undefined);
          }
        }
        return d.chargers.get(params.id);
      },
    },
    {
      method: 'GET', path: '/commands', roles: STAFF,
      summary: 'Commands that can be sent, with an example payload: OCPP 1.6 ones, or those of ?protocol=ocpp2.0.1',
      query: Type.Object({ protocol: Type.Optional(Type.Union(EDITIONS.map((e) => Type.Literal(e.protocol)))) }),
      handler: ({ query }: { query: { protocol?: string } }) => {
        const edition = EDITIONS.find((e) => e.protocol === (query.protocol ?? 'ocpp1.6'))!;
        return Object.entries(edition.commands).map(([action, profile]) => ({
          action, profile, example: edition.examples[action] ?? {},
          roles: INSTALLER_ONLY_COMMANDS.has(action) ? ['admin', 'installer'] : ['admin', 'installer', 'technician'],
        }));
      },
    },
    {
      method: 'POST', path: '/chargers/{id}/commands/{action}', roles: ['installer', 'technician'],
      summary: `Send an OCPP call (body = its payload); answers { response } with the charger's reply. Installer/admin only: ${[...INSTALLER_ONLY_COMMANDS].join(', ')} and ChangeConfiguration of security keys`,
      restricted: { roles: ['installer'], actions: [...INSTALLER_ONLY_COMMANDS], configurationKeys: [...SECURITY_CONFIG_KEYS] },
      params: Type.Object({ id: Type.String({ minLength: 1 }), action: Type.String({ minLength: 1 }) }),
      handler: async ({ params, payload, principal }) => {
        await mustExist(params.id);
        if (!OcppServer.commands().includes(params.action)) {
          throw new ApiError(404, `unknown command ${params.action}; known: ${OcppServer.commands().join(', ')}`);
        }
        const refusal = commandRefusal(principal!.role, params.action, payload);
        if (refusal) throw new ApiError(403, refusal);
        try {
          const response = await d.chargers.send(params.id, params.action, payload ?? {}, { actor: principal!.username });
          return { response };
        } catch (err) {
          commandApiError(err);
        }
      },
    },
  ];
}
