import type { TProperties } from '@sinclair/typebox';
import type { AnyCheck } from '../check.js';
import bootLoop from './boot-loop.js';
import certificateExpiry from './certificate-expiry.js';
import securityEvent from './security-event.js';
import clockDrift from './clock-drift.js';
import connectorFault from './connector-fault.js';
import energyStall from './energy-stall.js';
import firmwareFailed from './firmware-failed.js';
import knownFirmwareBug from './known-firmware-bug.js';
import loadManagement from './load-management.js';
import flapping from './flapping.js';
import meterDiscrepancy from './meter-discrepancy.js';
import meterRegression from './meter-regression.js';
import meterUnreachable from './meter-unreachable.js';
import offline from './offline.js';
import stuckTransaction from './stuck-transaction.js';
import suspendedEv from './suspended-ev.js';
import supersededSession from './superseded-session.js';
import truncatedField from './truncated-field.js';
import unresponsive from './unresponsive.js';

const list = [
  offline, flapping, connectorFault, bootLoop, stuckTransaction, energyStall, meterRegression, meterDiscrepancy,
  meterUnreachable, firmwareFailed, clockDrift, suspendedEv, unresponsive, supersededSession, truncatedField,
  loadManagement, knownFirmwareBug, certificateExpiry, securityEvent,
] as const;

/** Every check, by its stable id. Adding a check = one file here + its test. */
export const checks: Record<string, AnyCheck> = Object.fromEntries(list.map((c) => [c.id, c]));

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** Every check's config keys side by side, as they sit in the plugin's section. */
export type CheckConfigKeys = UnionToIntersection<(typeof list)[number]['config']>;

// Object.assign over a list cannot follow the types; CheckConfigKeys is what it builds (the keys are distinct).
export const checkConfigKeys = Object.assign({}, ...list.map((c) => c.config)) as CheckConfigKeys;
