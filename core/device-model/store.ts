import type { Knex } from 'knex';
import { isSecretConfigKey } from '../redact.js';

/** What one charger's device model may hold, and one report may bring: real chargers report a few hundred variables. */
export const DEVICE_MODEL_LIMITS = {
  /** reportData entries in one NotifyReport. */
  maxItemsPerPart: 1000,
  /** Parts of one report (seqNo 0 … this). */
  maxParts: 1000,
  /** Attribute rows one report may write (each entry has 1–4 attributes). */
  maxRowsPerReport: 20_000,
} as const;

export const ATTRIBUTE_TYPES = ['Actual', 'Target', 'MinSet', 'MaxSet'] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

/** A row of device_model_variables: one attribute of one variable of one component. */
export interface VariableRow {
  charger_id: string;
  component: string;
  /** '' = no instance. */
  component_instance: string;
  /** 0 = not on an EVSE. */
  evse_id: number;
  /** 0 = not on a connector. */
  connector_id: number;
  variable: string;
  variable_instance: string;
  attribute_type: string;
  value: string | null;
  mutability: string | null;
  unit: string | null;
  data_type: string | null;
  min_limit: number | null;
  max_limit: number | null;
  values_list: string | null;
  supports_monitoring: boolean | number | null;
  report_id: number | null;
  answer_status: string | null;
  answer_reason: string | null;
  answered_at: string | null;
  updated_at: string;
}

/** A row of device_model_reports: one GetBaseReport sent and what came of it. */
export interface ReportRow {
  id: number;
  charger_id: string;
  kind: string;
  requested_by: string;
  requested_at: string;
  answer: string | null;
  parts: number;
  last_seq_no: number | null;
  variables: number;
  finished_at: string | null;
}

export const KEY_COLUMNS = ['charger_id', 'component', 'component_instance', 'evse_id', 'connector_id', 'variable', 'variable_instance', 'attribute_type'] as const;
const REPORTED = ['value', 'mutability', 'unit', 'data_type', 'min_limit', 'max_limit', 'values_list', 'supports_monitoring', 'report_id', 'updated_at'] as const;

/** Where an attribute sits: component, EVSE/connector, variable, attribute type. */
export interface AttributeKey {
  component: string; componentInstance?: string; evseId?: number; connectorId?: number;
  variable: string; variableInstance?: string; attributeType?: string;
}

/** Component/variable names are case-insensitive in OCPP 2.0.1: a charger may answer in other case than it reported. */
export const keyOf = (k: AttributeKey): string => [
  k.component, k.componentInstance ?? '', k.evseId ?? 0, k.connectorId ?? 0, k.variable, k.variableInstance ?? '', k.attributeType ?? 'Actual',
].join('\u0000').toLowerCase();

export const rowKey = (r: VariableRow): string => keyOf({
  component: r.component, componentInstance: r.component_instance, evseId: Number(r.evse_id), connectorId: Number(r.connector_id),
  variable: r.variable, variableInstance: r.variable_instance, attributeType: r.attribute_type,
});

/** A reportData entry of NotifyReport (already schema-checked). */
export interface ReportData {
  component: { name: string; instance?: string; evse?: { id: number; connectorId?: number } };
  variable: { name: string; instance?: string };
  variableAttribute: Array<{ type?: string; value?: string; mutability?: string }>;
  variableCharacteristics?: { unit?: string; dataType: string; minLimit?: number; maxLimit?: number; valuesList?: string; supportsMonitoring: boolean };
}

/** Secrets (a basic-auth password) are never stored: the charger keeps them, the model says only that they exist. */
const stored = (variable: string, value: string | undefined) => (value === undefined || isSecretConfigKey(variable) ? null : value);

/** The rows of a report part, one per attribute. */
export function reportRows(chargerId: string, data: ReportData[], reportId: number, at: string): VariableRow[] {
  const rows: VariableRow[] = [];
  for (const d of data) {
    const c = d.variableCharacteristics;
    for (const a of d.variableAttribute) {
      rows.push({
        charger_id: chargerId, component: d.component.name, component_instance: d.component.instance ?? '',
        evse_id: d.component.evse?.id ?? 0, connector_id: d.component.evse?.connectorId ?? 0,
        variable: d.variable.name, variable_instance: d.variable.instance ?? '', attribute_type: a.type ?? 'Actual',
        value: stored(d.variable.name, a.value), mutability: a.mutability ?? 'ReadWrite',
        unit: c?.unit ?? null, data_type: c?.dataType ?? null, min_limit: c?.minLimit ?? null, max_limit: c?.maxLimit ?? null,
        values_list: c?.valuesList ?? null, supports_monitoring: c ? c.supportsMonitoring : null,
        report_id: reportId, answer_status: null, answer_reason: null, answered_at: null, updated_at: at,
      });
    }
  }
  return rows;
}

// Chunks keep each INSERT under SQLite's bound-parameter limit (21 columns a row).
const CHUNK = 400;

/** Writes a report's rows over what the charger said before (answers to gets and sets stay). */
export async function upsertReported(trx: Knex.Transaction, rows: VariableRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    await trx('device_model_variables').insert(rows.slice(i, i + CHUNK)).onConflict([...KEY_COLUMNS]).merge([...REPORTED]);
  }
}

/** After a full report: what it no longer lists is gone from the charger. */
export async function pruneUnreported(trx: Knex.Transaction, report: ReportRow): Promise<void> {
  await trx('device_model_variables').where({ charger_id: report.charger_id })
    .andWhere((q) => q.whereNull('report_id').orWhereNot('report_id', report.id))
    .andWhere('updated_at', '<', report.requested_at)
    .delete();
}

/** SQL for "the component is one of these names" (lowercase), case-insensitive: a whereRaw with the names as bindings. */
export const componentIn = (names: readonly string[]): string => `lower(component) in (${names.map(() => '?').join(', ')})`;

/** One answer of GetVariables or SetVariables, to be stored on its attribute. */
export interface AttributeAnswer extends AttributeKey {
  status: string;
  reason?: string;
  /** The value the charger now has (a get's Accepted value, a set's Accepted value); undefined leaves the stored one. */
  value?: string | null;
}

/** Stores answers on their attributes; an attribute not in the model yet is added when the answer carries its value. */
export async function recordAnswers(db: Knex, chargerId: string, answers: AttributeAnswer[], at: string): Promise<void> {
  if (!answers.length) return;
  const names = [...new Set(answers.map((a) => a.component.toLowerCase()))];
  const existing = await db<VariableRow>('device_model_variables').where({ charger_id: chargerId })
    .whereRaw(componentIn(names), names) as VariableRow[];
  const byKey = new Map(existing.map((r) => [rowKey(r), r]));
  await db.transaction(async (trx) => {
    for (const a of answers) {
      const found = byKey.get(keyOf(a));
      const answer = { answer_status: a.status.slice(0, 32), answer_reason: a.reason?.slice(0, 600) ?? null, answered_at: at };
      const value = a.value === undefined ? {} : { value: stored(a.variable, a.value ?? undefined), updated_at: at };
      if (found) {
        const where = Object.fromEntries(KEY_COLUMNS.map((k) => [k, found[k]]));
        await trx('device_model_variables').where(where).update({ ...answer, ...value });
      } else if (a.value !== undefined) {
        await trx('device_model_variables').insert({
          charger_id: chargerId, component: a.component, component_instance: a.componentInstance ?? '', evse_id: a.evseId ?? 0,
          connector_id: a.connectorId ?? 0, variable: a.variable, variable_instance: a.variableInstance ?? '',
          attribute_type: a.attributeType ?? 'Actual', value: stored(a.variable, a.value ?? undefined), report_id: null, updated_at: at, ...answer,
        }).onConflict([...KEY_COLUMNS]).merge();
      }
    }
  });
}
