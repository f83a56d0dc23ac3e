import type { AnyCheck } from '../check.js';
import bootLoop from './boot-loop.js';
import clockDrift from './clock-drift.js';
import connectorFault from './connector-fault.js';
import energyStall from './energy-stall.js';
import firmwareFailed from './firmware-failed.js';
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

/** Every check, by its stable id. Adding a check = one file here + its test. */
export const checks: Record<string, AnyCheck> = Object.fromEntries([
  offline, flapping, connectorFault, bootLoop, stuckTransaction, energyStall, meterRegression, meterDiscrepancy,
  meterUnreachable, firmwareFailed, clockDrift, suspendedEv, unresponsive, supersededSession, truncatedField,
  loadManagement,
].map((c) => [c.id, c]));
