import type { Wire } from './neutral.js';

/** One setting a neutral command reads: its 1.6 configuration key and its 2.0.1 component variable. */
export interface SettingRef { key: string; component: string; variable: string }

/** Values as the charger said them, trimmed, by 1.6 key; a setting it did not report is absent. */
export type SettingValues = Map<string, string>;

// A charger's reply is untrusted: read at most this many entries of it.
const MAX_RESULTS = 50;

/** 1.6: the settings as GetConfiguration keys. */
export function configurationWire<Out>(refs: SettingRef[], read: (v: SettingValues) => Out): Wire<Out> {
  return {
    action: 'GetConfiguration', payload: { key: refs.map((r) => r.key) },
    answer(reply) {
      const values: SettingValues = new Map();
      const listed = (reply as { configurationKey?: unknown } | null)?.configurationKey;
      for (const k of Array.isArray(listed) ? listed.slice(0, MAX_RESULTS) : []) {
        const { key, value } = k as { key?: unknown; value?: unknown };
        if (typeof value === 'string' && refs.some((r) => r.key === key)) values.set(key as string, value.trim());
      }
      return read(values);
    },
  };
}

/** 2.0.1: the same settings as GetVariables on their controller components (Actual values). */
export function variablesWire<Out>(refs: SettingRef[], read: (v: SettingValues) => Out): Wire<Out> {
  return {
    action: 'GetVariables',
    payload: { getVariableData: refs.map((r) => ({ component: { name: r.component }, variable: { name: r.variable } })) },
    answer(reply) {
      const values: SettingValues = new Map();
      const listed = (reply as { getVariableResult?: unknown } | null)?.getVariableResult;
      for (const res of Array.isArray(listed) ? listed.slice(0, MAX_RESULTS) : []) {
        const r = res as { attributeStatus?: unknown; attributeValue?: unknown; component?: { name?: unknown }; variable?: { name?: unknown } };
        const ref = refs.find((x) => x.component === r.component?.name && x.variable === r.variable?.name);
        if (ref && r.attributeStatus === 'Accepted' && typeof r.attributeValue === 'string') values.set(ref.key, r.attributeValue.trim());
      }
      return read(values);
    },
  };
}

/** "true"/"false" in any case; null when not reported or not a boolean. */
export function flagOf(values: SettingValues, key: string): boolean | null {
  const v = values.get(key)?.toLowerCase();
  return v === 'true' ? true : v === 'false' ? false : null;
}

/** A positive whole number; null when not reported or not one. */
export function countOf(values: SettingValues, key: string): number | null {
  const n = Number(values.get(key));
  return values.has(key) && Number.isInteger(n) && n > 0 ? n : null;
}
