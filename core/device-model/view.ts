import type { ReportRow, VariableRow } from './store.js';
import type { DeviceModelSummary } from './summary.js';

/** One attribute of a variable: its value of this type (Actual, Target, MinSet, MaxSet). */
export interface DeviceModelAttribute {
  type: string;
  /** null: the charger gave none (write-only, or a secret, which is never stored). */
  value: string | null;
  /** ReadOnly, WriteOnly or ReadWrite. */
  mutability: string | null;
  /** The charger's last answer to a get or set of it. */
  answer: { status: string; reason: string | null; at: string } | null;
}

/** A variable of a component, with its characteristics. */
export interface DeviceModelVariable {
  name: string;
  instance: string | null;
  attributes: DeviceModelAttribute[];
  unit: string | null;
  dataType: string | null;
  minLimit: number | null;
  maxLimit: number | null;
  /** Allowed values of an OptionList, MemberList or SequenceList, comma separated. */
  valuesList: string | null;
  supportsMonitoring: boolean | null;
  updatedAt: string;
}

/** A component (a controller, the station, an EVSE, a connector) with its variables. */
export interface DeviceModelComponent {
  name: string;
  instance: string | null;
  evseId: number | null;
  connectorId: number | null;
  variables: DeviceModelVariable[];
}

/** The state of a device model report: asked, coming in, finished, or refused by the charger. */
export type ReportState = 'requested' | 'receiving' | 'finished' | 'refused';

export interface DeviceModelReport {
  /** The GetBaseReport requestId. */
  requestId: number;
  kind: string;
  state: ReportState;
  requestedAt: string;
  requestedBy: string;
  /** The charger's GetBaseReport answer; null until it answered. */
  answer: string | null;
  /** Parts received so far. */
  parts: number;
  /** Attributes received so far. */
  variables: number;
  finishedAt: string | null;
}

/** GET /api/chargers/{id}/device-model. */
export interface DeviceModelView {
  chargerId: string;
  /** The latest report asked for, or null. */
  report: DeviceModelReport | null;
  summary: DeviceModelSummary;
  /** One page of the variables matching the filter, by component. */
  components: DeviceModelComponent[];
  /** Variables matching the filter, all pages together. */
  total: number;
  limit: number;
  offset: number;
}

export function reportState(r: ReportRow): ReportState {
  if (r.answer && !['Accepted', 'EmptyResultSet'].includes(r.answer)) return 'refused';
  if (r.finished_at) return 'finished';
  return Number(r.parts) > 0 ? 'receiving' : 'requested';
}

export function reportView(r: ReportRow): DeviceModelReport {
  return {
    requestId: Number(r.id), kind: r.kind, state: reportState(r), requestedAt: r.requested_at, requestedBy: r.requested_by,
    answer: r.answer ?? null, parts: Number(r.parts), variables: Number(r.variables), finishedAt: r.finished_at ?? null,
  };
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Rows (sorted by component, EVSE, connector, variable) grouped into components and variables, one page of variables. */
export function componentsOf(rows: VariableRow[], page: { limit: number; offset: number }): { components: DeviceModelComponent[]; total: number } {
  const components: DeviceModelComponent[] = [];
  let component: DeviceModelComponent | undefined;
  let variable: DeviceModelVariable | undefined;
  let lastComponent = '';
  let lastVariable = '';
  let index = -1;
  for (const r of rows) {
    const ck = [r.component, r.component_instance, r.evse_id, r.connector_id].join('\u0000');
    const vk = `${ck}\u0000${r.variable}\u0000${r.variable_instance}`;
    if (vk !== lastVariable) {
      index++;
      lastVariable = vk;
      variable = undefined;
    }
    if (index < page.offset || index >= page.offset + page.limit) continue;
    if (ck !== lastComponent || !component) {
      lastComponent = ck;
      component = {
        name: r.component, instance: r.component_instance || null, evseId: Number(r.evse_id) || null,
        connectorId: Number(r.connector_id) || null, variables: [],
      };
      components.push(component);
    }
    if (!variable) {
      variable = {
        name: r.variable, instance: r.variable_instance || null, attributes: [], unit: r.unit ?? null, dataType: r.data_type ?? null,
        minLimit: num(r.min_limit), maxLimit: num(r.max_limit), valuesList: r.values_list ?? null,
        supportsMonitoring: r.supports_monitoring === null || r.supports_monitoring === undefined ? null : Boolean(r.supports_monitoring),
        updatedAt: r.updated_at,
      };
      component.variables.push(variable);
    }
    variable.attributes.push({
      type: r.attribute_type, value: r.value ?? null, mutability: r.mutability ?? null,
      answer: r.answer_status ? { status: r.answer_status, reason: r.answer_reason ?? null, at: r.answered_at ?? r.updated_at } : null,
    });
    if (r.updated_at > variable.updatedAt) variable.updatedAt = r.updated_at;
  }
  return { components, total: index + 1 };
}
