import { Type, type Static } from '@sinclair/typebox';
import { ApiError, type FieldProblem } from '../../errors.js';
import { commandRefusal } from '../../ocpp/command-roles.js';
import { editionOf } from '../../ocpp/editions.js';
import { LIMITS } from '../../ocpp/limits.js';
import { commandApiError } from '../../ocpp/send-error.js';
import { ATTRIBUTE_TYPES, componentIn, keyOf, recordAnswers, type AttributeAnswer, type ReportRow, type VariableRow } from '../../device-model/store.js';
import { SUMMARY_COMPONENTS, summarize } from '../../device-model/summary.js';
import { componentsOf, reportView, type DeviceModelView } from '../../device-model/view.js';
import { STAFF, type RouteSpec } from '../../types.js';
import { MAX_PAGE } from '../paging.js';
import { withChecks } from '../validate.js';
import type { CoreRouteDeps } from './deps.js';

const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const Name = Type.String({ minLength: 1, maxLength: 50 });
const EvseRef = Type.Integer({ minimum: 1, maximum: LIMITS.maxConnectorId });

const Ref = {
  component: Name,
  componentInstance: Type.Optional(Name),
  evseId: Type.Optional(EvseRef),
  /** A connector of the EVSE evseId. */
  connectorId: Type.Optional(EvseRef),
  variable: Name,
  variableInstance: Type.Optional(Name),
  attributeType: Type.Optional(Type.Union(ATTRIBUTE_TYPES.map((t) => Type.Literal(t)), { default: 'Actual' })),
};
/** Reports kept per charger, the newest. */
const KEEP_REPORTS = 20;
/** At most this many variables per get or set (chargers take ~10–50 per message). */
const MAX_VARIABLES = 50;
const GetBody = Type.Object({ variables: Type.Array(Type.Object(Ref, { additionalProperties: false }), { minItems: 1, maxItems: MAX_VARIABLES }) }, { additionalProperties: false });
const SetBody = Type.Object({
  variables: Type.Array(Type.Object({ ...Ref, value: Type.String({ maxLength: 1000 }) }, { additionalProperties: false }), { minItems: 1, maxItems: MAX_VARIABLES }),
}, { additionalProperties: false });
type RefInput = Static<typeof GetBody>['variables'][number];

/** The OCPP ComponentType/VariableType of a reference. */
function wire(r: RefInput) {
  return {
    attributeType: r.attributeType ?? 'Actual',
    component: {
      name: r.component, ...(r.componentInstance !== undefined ? { instance: r.componentInstance } : {}),
      ...(r.evseId !== undefined ? { evse: { id: r.evseId, ...(r.connectorId !== undefined ? { connectorId: r.connectorId } : {}) } } : {}),
    },
    variable: { name: r.variable, ...(r.variableInstance !== undefined ? { instance: r.variableInstance } : {}) },
  };
}

interface WireResult {
  attributeStatus?: string; attributeType?: string; attributeValue?: string;
  attributeStatusInfo?: { reasonCode?: string; additionalInfo?: string };
  component?: { name?: string; instance?: string; evse?: { id?: number; connectorId?: number } };
  variable?: { name?: string; instance?: string };
}

/** Each requested variable with the result the charger gave for it (matched by name, case-insensitive; else by position). */
function matched(refs: RefInput[], results: WireResult[]): Array<{ ref: RefInput; result: WireResult | undefined }> {
  const keyOfResult = (x: WireResult) => keyOf({
    component: String(x.component?.name ?? ''), componentInstance: x.component?.instance, evseId: x.component?.evse?.id,
    connectorId: x.component?.evse?.connectorId, variable: String(x.variable?.name ?? ''), variableInstance: x.variable?.instance,
    attributeType: x.attributeType,
  });
  const byKey = new Map(results.map((x) => [keyOfResult(x), x]));
  // Chargers answer in the order asked: the result in the same place wins when it names the same variable.
  return refs.map((ref, i) => {
    const here = results[i];
    const same = here && keyOfResult({ ...here, attributeType: here.attributeType ?? ref.attributeType }) === keyOf(ref);
    return { ref, result: same ? here : byKey.get(keyOf(ref)) ?? here };
  });
}

const reasonOf = (r: WireResult | undefined) => [r?.attributeStatusInfo?.reasonCode, r?.attributeStatusInfo?.additionalInfo].filter(Boolean).join(': ') || undefined;

const connectorNeedsEvse = (list: unknown): FieldProblem[] => (Array.isArray(list) ? list : []).flatMap((v: { evseId?: unknown; connectorId?: unknown } | null, i) =>
  (v && v.connectorId !== undefined && v.evseId === undefined ? [{ field: `variables[${i}].connectorId`, message: 'needs evseId: a connector is one of an EVSE' }] : []));

/** The OCPP 2.0.1 device model of a charger: reports, browsing, reading and changing variables. */
export function deviceModelRoutes(d: CoreRouteDeps): RouteSpec[] {
  /** The charger, which must exist and speak 2.0.1 (1.6 has configuration keys instead: GetConfiguration, ChangeConfiguration). */
  const speaks201 = async (id: string) => {
    const row = await d.chargers.row(id);
    if (!row) throw ApiError.notFound(`charger ${id}`);
    const edition = editionOf(await d.ocpp.protocolFor(id));
    if (edition.protocol !== 'ocpp2.0.1') {
      throw ApiError.conflict(`${id} speaks ${edition.label}, which has configuration keys (GetConfiguration, ChangeConfiguration) instead of a device model`);
    }
    return row;
  };
  const latestReport = async (id: string) => d.db<ReportRow>('device_model_reports').where({ charger_id: id }).orderBy('id', 'desc').first();
  const updated = (chargerId: string) => d.bus.emit('charger.deviceModel', { chargerId, at: d.clock.iso(), requestId: null, state: 'updated', parts: 0, variables: 0 });

  return [
    {
      method: 'GET', path: '/chargers/{id}/device-model', roles: STAFF,
      summary: 'An OCPP 2.0.1 charger\'s device model as it last reported it: a summary in words, the latest report, and its components with their variables (?component=, ?variable= filter by name, case-insensitive; paged by variable: ?limit= at most 1000, ?offset=). 409 for a 1.6 charger',
      params: IdParam,
      query: Type.Object({
        component: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
        variable: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
        limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 200 }),
        offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
      }),
      handler: async ({ params, query }: { params: { id: string }; query: { component?: string; variable?: string; limit: number; offset: number } }): Promise<DeviceModelView> => {
        const row = await speaks201(params.id);
        const like = (s: string) => `%${s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        const q = d.db<VariableRow>('device_model_variables').where({ charger_id: params.id });
        if (query.component) q.whereRaw('lower(component) like ? escape \'\\\'', [like(query.component)]);
        if (query.variable) q.whereRaw('lower(variable) like ? escape \'\\\'', [like(query.variable)]);
        const order = ['component', 'component_instance', 'evse_id', 'connector_id', 'variable', 'variable_instance', 'attribute_type'];
        const [rows, summaryRows, report] = await Promise.all([
          q.orderBy(order) as Promise<VariableRow[]>,
          d.db<VariableRow>('device_model_variables').where({ charger_id: params.id })
            .whereRaw(componentIn(SUMMARY_COMPONENTS), SUMMARY_COMPONENTS.map((c) => c.toLowerCase())) as Promise<VariableRow[]>,
          latestReport(params.id),
        ]);
        const { components, total } = componentsOf(rows, query);
        return {
          chargerId: params.id, report: report ? reportView(report) : null, summary: summarize(summaryRows, row.firmware_version ?? null),
          components, total, limit: query.limit, offset: query.offset,
        };
      },
    },
    {
      method: 'POST', path: '/chargers/{id}/device-model/refresh', roles: ['installer', 'technician'],
      summary: 'Asks an OCPP 2.0.1 charger for its whole device model (GetBaseReport FullInventory, a new requestId); 202 with the report, whose progress GET device-model and the event charger.deviceModel show',
      params: IdParam,
      handler: async ({ params, principal }, h) => {
        await speaks201(params.id);
        const at = d.clock.iso();
        const [inserted] = await d.db('device_model_reports')
          .insert({ charger_id: params.id, kind: 'FullInventory', requested_by: principal!.username, requested_at: at }).returning('id');
        const requestId = Number(typeof inserted === 'object' && inserted !== null ? (inserted as { id: unknown }).id : inserted);
        // Only the charger's recent reports are kept: a late part of an older one is then simply not taken.
        const old = await d.db('device_model_reports').where({ charger_id: params.id }).orderBy('id', 'desc').offset(KEEP_REPORTS).limit(1000).pluck('id');
        if (old.length) await d.db('device_model_reports').whereIn('id', old).delete();
        d.bus.emit('charger.deviceModel', { chargerId: params.id, at, requestId, state: 'requested', parts: 0, variables: 0 });
        let answer: string;
        try {
          const reply = await d.chargers.send(params.id, 'GetBaseReport', { requestId, reportBase: 'FullInventory' }, { actor: principal!.username });
          answer = String((reply as { status?: unknown }).status ?? 'Unknown');
        } catch (err) {
          // Never sent or never answered: no report is coming for it.
          await d.db('device_model_reports').where({ id: requestId }).delete();
          return commandApiError(err);
        }
        const patch = { answer: answer.slice(0, 32), ...(answer === 'EmptyResultSet' ? { finished_at: d.clock.iso() } : {}) };
        await d.db('device_model_reports').where({ id: requestId }).update(patch);
        const report = reportView((await d.db<ReportRow>('device_model_reports').where({ id: requestId }).first())!);
        if (report.state === 'refused' || report.state === 'finished') {
          d.bus.emit('charger.deviceModel', { chargerId: params.id, at: d.clock.iso(), requestId, state: report.state, parts: report.parts, variables: report.variables });
        }
        return h.response(report).code(202);
      },
    },
    withChecks<Static<typeof GetBody>>({
      method: 'POST', path: '/chargers/{id}/device-model/get', roles: ['installer', 'technician'],
      summary: 'Reads variables of an OCPP 2.0.1 charger (GetVariables) and stores what it answered: { results: [{ component, variable, ..., status, value, reason }] }',
      params: IdParam, body: GetBody,
      handler: async ({ params, payload, principal }) => {
        await speaks201(params.id);
        const refs = payload.variables as RefInput[];
        let reply: unknown;
        try {
          reply = await d.chargers.send(params.id, 'GetVariables', { getVariableData: refs.map(wire) }, { actor: principal!.username });
        } catch (err) {
          return commandApiError(err);
        }
        const results = matched(refs, (reply as { getVariableResult?: WireResult[] }).getVariableResult ?? []).map(({ ref, result }) => ({
          ...ref, attributeType: ref.attributeType ?? 'Actual', status: result?.attributeStatus ?? 'NoAnswer',
          value: result?.attributeStatus === 'Accepted' ? result.attributeValue ?? null : null, reason: reasonOf(result) ?? null,
        }));
        await recordAnswers(d.db, params.id, results.map((r): AttributeAnswer => ({
          ...r, reason: r.reason ?? undefined, ...(r.status === 'Accepted' ? { value: r.value } : {}),
        })), d.clock.iso());
        updated(params.id);
        return { results };
      },
    }, ({ payload }) => connectorNeedsEvse(payload.variables)),
    withChecks<Static<typeof SetBody>>({
      method: 'POST', path: '/chargers/{id}/device-model/set', roles: ['installer', 'technician'],
      summary: 'Changes variables of an OCPP 2.0.1 charger (SetVariables); answers per variable Accepted, Rejected, RebootRequired, UnknownComponent, UnknownVariable or NotSupportedAttributeType, stored and audited. Security components are installer/admin only',
      params: IdParam, body: SetBody,
      handler: async ({ params, payload, principal }) => {
        await speaks201(params.id);
        const refs = payload.variables as Array<RefInput & { value: string }>;
        const request = { setVariableData: refs.map((r) => ({ ...wire(r), attributeValue: r.value })) };
        const refusal = commandRefusal(principal!.role, 'SetVariables', request);
        if (refusal) throw new ApiError(403, refusal);
        let reply: unknown;
        try {
          // Audited as command.SetVariables (secret values redacted).
          reply = await d.chargers.send(params.id, 'SetVariables', request, { actor: principal!.username });
        } catch (err) {
          return commandApiError(err);
        }
        const results = matched(refs, (reply as { setVariableResult?: WireResult[] }).setVariableResult ?? []).map(({ ref, result }) => {
          const { value: _, ...where } = ref as RefInput & { value: string };
          return { ...where, attributeType: ref.attributeType ?? 'Actual', status: result?.attributeStatus ?? 'NoAnswer', reason: reasonOf(result) ?? null };
        });
        await recordAnswers(d.db, params.id, results.map((r, i): AttributeAnswer => ({
          ...r, reason: r.reason ?? undefined, ...(r.status === 'Accepted' ? { value: refs[i]!.value } : {}),
        })), d.clock.iso());
        updated(params.id);
        return { results };
      },
    }, ({ payload }) => connectorNeedsEvse(payload.variables)),
  ];
}
