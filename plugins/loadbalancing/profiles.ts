import type { ChargingProfileInput, RateUnit } from '../../core/ocpp/commands/smart-charging.js';
import { VOLTS } from './allocate.js';

export type { RateUnit };

/** Profile ids of this plugin: the failsafe, and one session profile per connector. */
const FAILSAFE_PROFILE_ID = 1;
const SESSION_PROFILE_BASE = 100;

const limitIn = (amps: number, unit: RateUnit, phases: number) =>
  unit === 'A' ? Math.round(amps * 10) / 10 : Math.round(amps * VOLTS * phases);

/**
 * What every connector keeps when the appliance is gone: a default profile
 * for the whole charger with no end, which the charger stores and applies to
 * every session without a valid session profile of its own.
 */
export function failsafeProfile(amps: number, unit: RateUnit, phases: number): ChargingProfileInput {
  return {
    connectorId: 0, profileId: FAILSAFE_PROFILE_ID, stackLevel: 0, purpose: 'default',
    schedule: { unit, periods: [{ startS: 0, limit: limitIn(amps, unit, phases) }] },
  };
}

/** A session's share: a session profile valid for `validityMs`; if it is not refreshed (the appliance is gone), the failsafe applies again. */
export function sessionProfile(connectorId: number, transactionId: number, amps: number, unit: RateUnit, stackLevel: number, phases: number, nowMs: number, validityMs: number): ChargingProfileInput {
  const from = new Date(nowMs).toISOString();
  return {
    connectorId, profileId: SESSION_PROFILE_BASE + connectorId, transactionId, stackLevel, purpose: 'session',
    validFrom: from, validTo: new Date(nowMs + validityMs).toISOString(),
    schedule: {
      durationS: Math.round(validityMs / 1000), startSchedule: from, unit,
      periods: [{ startS: 0, limit: limitIn(amps, unit, phases), ...(unit === 'A' ? { phases } : {}) }],
    },
  };
}
