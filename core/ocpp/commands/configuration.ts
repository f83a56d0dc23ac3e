import { SECURITY_COMPONENTS, SECURITY_CONFIG_KEYS } from '../command-roles.js';
import { isSecretConfigKey } from '../../redact.js';
import { CommandPayloadError } from '../send-error.js';
import { type CommandRunner, neutral } from './neutral.js';

/** An OCPP 2.0.1 component/variable pair, as a configuration key names it. */
export interface VariableRef {
  component: { name: string; instance?: string };
  variable: { name: string; instance?: string };
}

/** What OCPP 2.0.1 allows a component or variable name and instance (at most 50 characters), without the key's own separators. */
const NAME = /^[A-Za-z0-9_\-:+|@*]{1,50}$/;
const PART = /^([^[\].]*)(?:\[([^\]]*)\])?$/;

const EXAMPLE = 'e.g. OCPPCommCtrlr.HeartbeatInterval';

function parsePart(text: string, what: 'component' | 'variable'): { name: string; instance?: string } {
  const m = PART.exec(text);
  if (!m) throw new Error(`the ${what} "${text}" is not Name or Name[instance]`);
  const [, name = '', instance] = m;
  if (!NAME.test(name)) throw new Error(`the ${what} name "${name}" must be 1–50 letters, digits or _-:+|@*`);
  if (instance === undefined) return { name };
  if (!NAME.test(instance)) throw new Error(`the ${what} instance "${instance}" must be 1–50 letters, digits or _-:+|@*`);
  return { name, instance };
}

/**
 * Reads an OCPP 2.0.1 configuration key: `Component.Variable`, each optionally with an `[instance]`
 * (`SampledDataCtrlr.TxUpdatedMeasurands`, `SmartChargingCtrlr.Entries[ChargingProfiles]`). An instance is the
 * component's or variable's instance name, never an EVSE: EVSE-bound variables are the device model API's.
 * Throws an Error that says what is wrong.
 */
export function parseVariableKey(key: string): VariableRef {
  if (key.length > 205) throw new Error(`"${key.slice(0, 40)}…" is longer than any OCPP 2.0.1 key (205 characters)`);
  // The separator is the one dot outside brackets.
  let depth = 0;
  const dots: number[] = [];
  for (let i = 0; i < key.length; i++) {
    if (key[i] === '[') depth++;
    else if (key[i] === ']') depth--;
    else if (key[i] === '.' && depth === 0) dots.push(i);
    if (depth < 0 || depth > 1) break;
  }
  if (depth !== 0) throw new Error(`"${key}" has an unclosed [ or a stray ]: write Component[instance].Variable[instance], ${EXAMPLE}`);
  if (dots.length === 0) throw new Error(`"${key}" is not an OCPP 2.0.1 key: write Component.Variable, ${EXAMPLE}`);
  if (dots.length > 1) throw new Error(`"${key}" has more than one dot: write Component.Variable, ${EXAMPLE}`);
  const at = dots[0]!;
  return { component: parsePart(key.slice(0, at), 'component'), variable: parsePart(key.slice(at + 1), 'variable') };
}

/** The key of a component/variable pair, as parseVariableKey reads it. */
export function variableKey(r: VariableRef): string {
  const part = (p: { name: string; instance?: string }) => (p.instance !== undefined ? `${p.name}[${p.instance}]` : p.name);
  return `${part(r.component)}.${part(r.variable)}`;
}

/**
 * What is wrong with a configuration key for a charger speaking `protocol` (a ChargerView's protocol; null: not known yet),
 * or null. A key written as Component.Variable must be well formed whatever the charger speaks; a 2.0.1 charger needs one.
 */
export function configurationKeyProblem(key: string, protocol: string | null = null): string | null {
  const looks201 = /[.[\]]/.test(key);
  if (!looks201 && protocol !== 'ocpp2.0.1') return null;
  try {
    parseVariableKey(key);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Whether a key (1.6 name or 2.0.1 Component.Variable) decides who the charger trusts or lets charge, or holds a secret. */
export function isSecurityConfigurationKey(key: string): boolean {
  let component = '';
  let variable = key;
  try {
    const r = parseVariableKey(key);
    component = r.component.name;
    variable = r.variable.name;
  } catch { /* a 1.6 key */ }
  return SECURITY_COMPONENTS.has(component) || SECURITY_CONFIG_KEYS.has(variable) || isSecretConfigKey(variable) || variable === 'NetworkConfigurationPriority';
}

export interface SetConfigurationInput {
  /** A 1.6 configuration key, or a 2.0.1 `Component.Variable` key. */
  key: string;
  /** The value as OCPP sends it: text. */
  value: string;
}

/** A charger's answer to a configuration change. */
export interface ConfigurationAnswer {
  /** It took the value (maybe only from its next reboot). */
  accepted: boolean;
  /** The value takes effect after a reboot. */
  rebootRequired: boolean;
  /** As the charger said it: Accepted, Rejected, RebootRequired, NotSupported (1.6), UnknownComponent, UnknownVariable, NotSupportedAttributeType (2.0.1). */
  status: string;
  /** The charger's reason code and text, when it gave one (2.0.1). */
  reason?: string;
}

export interface GetConfigurationInput {
  /** Keys to read; empty reads every key of a 1.6 charger (2.0.1 needs at least one). */
  keys: string[];
}

/** One key as the charger reported it. */
export interface ConfigurationValue {
  key: string;
  /** null: the charger gave no value (write-only, or not known). */
  value: string | null;
  /** Whether it cannot be changed; null when the charger did not say (2.0.1). */
  readonly: boolean | null;
}

export interface GetConfigurationAnswer {
  values: ConfigurationValue[];
  /** Keys the charger does not know. */
  unknown: string[];
}

const ACCEPTED_WORDS = new Set(['Accepted', 'RebootRequired']);

function invalid(field: string, message: string): CommandPayloadError {
  return new CommandPayloadError(`${field}: ${message}`, [{ field, message }]);
}

function refOf(key: string, field: string): VariableRef {
  try {
    return parseVariableKey(key);
  } catch (err) {
    throw invalid(field, (err as Error).message);
  }
}

function answerOf(status: unknown, info?: { reasonCode?: unknown; additionalInfo?: unknown }): ConfigurationAnswer {
  const s = typeof status === 'string' ? status : 'Unknown';
  const reason = [info?.reasonCode, info?.additionalInfo].filter((x) => typeof x === 'string' && x).join(': ');
  return { accepted: ACCEPTED_WORDS.has(s), rebootRequired: s === 'RebootRequired', status: s, ...(reason ? { reason } : {}) };
}

const same = (a: { name: string; instance?: string }, b: { name?: unknown; instance?: unknown } | undefined) =>
  String(b?.name ?? '').toLowerCase() === a.name.toLowerCase() && String(b?.instance ?? '').toLowerCase() === (a.instance ?? '').toLowerCase();

interface GetVariableResult {
  attributeStatus?: string; attributeValue?: string;
  component?: { name?: string; instance?: string }; variable?: { name?: string; instance?: string };
}

/** Reading and changing a charger's settings: 1.6 configuration keys, 2.0.1 device model variables. */
export function configurationCommands(runner: CommandRunner) {
  return {
    setConfiguration: neutral<SetConfigurationInput, ConfigurationAnswer>(runner, 'setConfiguration', {
      'ocpp1.6': (i) => ({
        action: 'ChangeConfiguration', payload: { key: i.key, value: i.value },
        answer: (reply) => answerOf((reply as { status?: unknown } | null)?.status),
      }),
      'ocpp2.0.1': (i) => {
        const ref = refOf(i.key, 'key');
        return {
          action: 'SetVariables', payload: { setVariableData: [{ attributeType: 'Actual', attributeValue: i.value, ...ref }] },
          answer: (reply) => {
            const results = (reply as { setVariableResult?: Array<{ attributeStatus?: unknown; attributeStatusInfo?: { reasonCode?: unknown; additionalInfo?: unknown } }> } | null)?.setVariableResult;
            const r = Array.isArray(results) ? results[0] : undefined;
            return answerOf(r?.attributeStatus, r?.attributeStatusInfo);
          },
        };
      },
    }),
    getConfiguration: neutral<GetConfigurationInput, GetConfigurationAnswer>(runner, 'getConfiguration', {
      'ocpp1.6': (i) => ({
        action: 'GetConfiguration', payload: i.keys.length ? { key: i.keys } : {},
        answer: (reply) => {
          const r = reply as { configurationKey?: Array<{ key: string; readonly: boolean; value?: string }>; unknownKey?: string[] } | null;
          return {
            values: (r?.configurationKey ?? []).map((k) => ({ key: k.key, value: k.value ?? null, readonly: Boolean(k.readonly) })),
            unknown: r?.unknownKey ?? [],
          };
        },
      }),
      'ocpp2.0.1': (i) => {
        if (!i.keys.length) throw invalid('keys', 'name at least one Component.Variable key: OCPP 2.0.1 reads variables one by one (the whole model comes with a device model report)');
        const refs = i.keys.map((k, n) => refOf(k, `keys[${n}]`));
        return {
          action: 'GetVariables', payload: { getVariableData: refs.map((r) => ({ attributeType: 'Actual', ...r })) },
          answer: (reply) => {
            const results = (reply as { getVariableResult?: GetVariableResult[] } | null)?.getVariableResult ?? [];
            const values: ConfigurationValue[] = [];
            const unknown: string[] = [];
            refs.forEach((ref, n) => {
              // Results may come in any order: each is matched to its key by component and variable (case-insensitive, as OCPP says).
              const r = results.find((x) => same(ref.component, x.component) && same(ref.variable, x.variable)) ?? results[n];
              if (r?.attributeStatus === 'Accepted') values.push({ key: i.keys[n]!, value: r.attributeValue ?? null, readonly: null });
              else unknown.push(i.keys[n]!);
            });
            return { values, unknown };
          },
        };
      },
    }),
  };
}
