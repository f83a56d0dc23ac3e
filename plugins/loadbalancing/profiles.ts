import { VOLTS } from './allocate.js';

/** What a charger takes limits in (ChargingScheduleAllowedChargingRateUnit). */
export type RateUnit = 'A' | 'W';

/** Profile ids of this plugin: the failsafe, and one session profile per connector. */
const FAILSAFE_PROFILE_ID = 1;
const SESSION_PROFILE_BASE = 100;

const limitIn = (amps: number, unit: RateUnit, phases: number) =>
  unit === 'A' ? Math.round(amps * 10) / 10 : Math.round(amps * VOLTS * phases);

/**
 * What every connector keeps when the appliance is gone: a TxDefaultProfile
 * on connector 0 with no end, which the charger stores and applies to every
 * session without a valid TxProfile of its own.
 */
export function failsafeProfile(amps: number, unit: RateUnit, phases: number) {
  return {
    connectorId: 0,
    csChargingProfiles: {
      chargingProfileId: FAILSAFE_PROFILE_ID, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Relative',
      chargingSchedule: { chargingRateUnit: unit, chargingSchedulePeriod: [{ startPeriod: 0, limit: limitIn(amps, unit, phases) }] },
    },
  };
}

/** A session's share: a TxProfile valid for `validityMs`; if it is not refreshed (the appliance is gone), the failsafe applies again. */
export function sessionProfile(connectorId: number, transactionId: number, amps: number, unit: RateUnit, stackLevel: number, phases: number, nowMs: number, validityMs: number) {
  const from = new Date(nowMs).toISOString();
  return {
    connectorId,
    csChargingProfiles: {
      chargingProfileId: SESSION_PROFILE_BASE + connectorId, transactionId, stackLevel, chargingProfilePurpose: 'TxProfile',
      chargingProfileKind: 'Absolute', validFrom: from, validTo: new Date(nowMs + validityMs).toISOString(),
      chargingSchedule: {
        duration: Math.round(validityMs / 1000), startSchedule: from, chargingRateUnit: unit,
        chargingSchedulePeriod: [{ startPeriod: 0, limit: limitIn(amps, unit, phases), ...(unit === 'A' ? { numberPhases: phases } : {}) }],
      },
    },
  };
}
