import { CommandPayloadError } from '../send-error.js';
import { type CommandAnswer, type CommandRunner, neutral, statusAnswer } from './neutral.js';
import { configurationWire, countOf, type SettingRef, type SettingValues, variablesWire } from './settings-read.js';

/** What a limit is in: amperes per phase or watts in total. */
export type RateUnit = 'A' | 'W';

/**
 * What a profile is for: `default` applies to every session without a profile of its own (1.6 and 2.0.1 TxDefaultProfile),
 * `session` to one running session (TxProfile), `charger-max` caps the whole charger (1.6 ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile).
 */
export type ProfilePurpose = 'default' | 'session' | 'charger-max';

/** One step of a schedule. */
export interface SchedulePeriod {
  /** Seconds from the schedule's start. */
  startS: number;
  /** In the schedule's unit. */
  limit: number;
  /** Phases the car may use; absent = as many as it has. */
  phases?: number;
}

export interface ChargingSchedule {
  unit: RateUnit;
  /** Absolute schedules start here (ISO); without it the schedule runs from the session's start (Relative). */
  startSchedule?: string;
  /** How long it lasts, s; absent = until the profile ends. */
  durationS?: number;
  periods: SchedulePeriod[];
}

export interface ChargingProfileInput {
  /** The connector (2.0.1: EVSE) it applies to; 0 = the whole charger. */
  connectorId: number;
  /** Ours to choose; a profile of the same id replaces the earlier one. */
  profileId: number;
  purpose: ProfilePurpose;
  stackLevel: number;
  /** session only: the core's transaction id (2.0.1 takes the charger's own transactionId, looked up here). */
  transactionId?: number;
  /** ISO; absent = from now. */
  validFrom?: string;
  /** ISO; absent = no end. */
  validTo?: string;
  schedule: ChargingSchedule;
}

export interface ClearProfileInput {
  profileId?: number;
  /** The connector (2.0.1: EVSE); 0 = the whole charger. */
  connectorId?: number;
  purpose?: ProfilePurpose;
  stackLevel?: number;
}

export interface CompositeScheduleInput {
  /** The connector (2.0.1: EVSE); 0 = the whole charger. */
  connectorId: number;
  /** How far ahead, s. */
  durationS: number;
  /** The unit wanted; absent = the charger's choice. */
  unit?: RateUnit;
}

/** What the charger plans to apply, as it said it, from `start`. */
export interface CompositeSchedule {
  connectorId: number | null;
  /** ISO; null when the charger did not say. */
  start: string | null;
  durationS: number | null;
  unit: RateUnit;
  periods: SchedulePeriod[];
}

export interface CompositeScheduleAnswer extends CommandAnswer { schedule: CompositeSchedule | null }

/** What the charger lets us steer with. */
export interface SmartChargingSettings {
  /** The units its schedules may use; null when it did not say. */
  units: RateUnit[] | null;
  /** The highest stack level it takes; null when it did not say. */
  maxStackLevel: number | null;
}

const PURPOSE_16: Record<ProfilePurpose, string> = { default: 'TxDefaultProfile', session: 'TxProfile', 'charger-max': 'ChargePointMaxProfile' };
const PURPOSE_201: Record<ProfilePurpose, string> = { default: 'TxDefaultProfile', session: 'TxProfile', 'charger-max': 'ChargingStationMaxProfile' };
// A charger's reply is untrusted: a composite schedule is read up to this many periods (2.0.1 caps a schedule at 1024).
const MAX_PERIODS = 1024;

const SETTINGS: SettingRef[] = [
  { key: 'ChargingScheduleAllowedChargingRateUnit', component: 'SmartChargingCtrlr', variable: 'RateUnit' },
  { key: 'ChargeProfileMaxStackLevel', component: 'SmartChargingCtrlr', variable: 'ProfileStackLevel' },
];

/** 1.6 lists "Current,Power", 2.0.1 "A,W". */
function readSettings(v: SettingValues): SmartChargingSettings {
  const listed = v.get(SETTINGS[0]!.key);
  const units = listed === undefined ? null : listed.split(',').map((u) => u.trim())
    .map((u): RateUnit | null => (u === 'Current' || u === 'A' ? 'A' : u === 'Power' || u === 'W' ? 'W' : null))
    .filter((u): u is RateUnit => u !== null);
  return { units, maxStackLevel: countOf(v, SETTINGS[1]!.key) };
}

const period16 = (p: SchedulePeriod) => ({ startPeriod: p.startS, limit: p.limit, ...(p.phases !== undefined ? { numberPhases: p.phases } : {}) });
const kindOf = (s: ChargingSchedule) => (s.startSchedule ? 'Absolute' : 'Relative');
const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** Reads a composite schedule of either version (1.6 chargingSchedule beside connectorId, 2.0.1 schedule with evseId). */
function compositeAnswer(reply: unknown): CompositeScheduleAnswer {
  const base = statusAnswer()(reply);
  const r = (reply ?? {}) as {
    connectorId?: unknown; scheduleStart?: unknown;
    chargingSchedule?: Record<string, unknown>; schedule?: Record<string, unknown>;
  };
  const s = r.schedule ?? r.chargingSchedule;
  const periods = Array.isArray(s?.chargingSchedulePeriod) ? (s.chargingSchedulePeriod as unknown[]).slice(0, MAX_PERIODS) : [];
  const read = periods.flatMap((p) => {
    const { startPeriod, limit, numberPhases } = p as { startPeriod?: unknown; limit?: unknown; numberPhases?: unknown };
    if (typeof startPeriod !== 'number' || typeof limit !== 'number' || !Number.isFinite(limit)) return [];
    return [{ startS: startPeriod, limit, ...(typeof numberPhases === 'number' ? { phases: numberPhases } : {}) }];
  });
  if (!base.accepted || !s || !read.length || (s.chargingRateUnit !== 'A' && s.chargingRateUnit !== 'W')) return { ...base, schedule: null };
  const connectorId = r.schedule ? s.evseId : r.connectorId;
  const start = r.schedule ? s.scheduleStart : r.scheduleStart ?? s.startSchedule;
  return {
    ...base,
    schedule: {
      connectorId: typeof connectorId === 'number' ? connectorId : null,
      start: typeof start === 'string' ? start : null,
      durationS: typeof s.duration === 'number' ? s.duration : null,
      unit: s.chargingRateUnit, periods: read,
    },
  };
}

/** Charging profiles and composite schedules: load management. */
export function smartChargingCommands(runner: CommandRunner) {
  const set = neutral<ChargingProfileInput & { transactionRef?: string }, CommandAnswer>(runner, 'setChargingProfile', {
    'ocpp1.6': (i) => ({
      action: 'SetChargingProfile',
      payload: {
        connectorId: i.connectorId,
        csChargingProfiles: defined({
          chargingProfileId: i.profileId, transactionId: i.purpose === 'session' ? i.transactionId : undefined,
          stackLevel: i.stackLevel, chargingProfilePurpose: PURPOSE_16[i.purpose], chargingProfileKind: kindOf(i.schedule),
          validFrom: i.validFrom, validTo: i.validTo,
          chargingSchedule: defined({
            duration: i.schedule.durationS, startSchedule: i.schedule.startSchedule, chargingRateUnit: i.schedule.unit,
            chargingSchedulePeriod: i.schedule.periods.map(period16),
          }),
        }),
      },
      answer: statusAnswer(),
    }),
    'ocpp2.0.1': (i) => ({
      action: 'SetChargingProfile',
      payload: {
        evseId: i.connectorId,
        chargingProfile: defined({
          id: i.profileId, stackLevel: i.stackLevel, chargingProfilePurpose: PURPOSE_201[i.purpose], chargingProfileKind: kindOf(i.schedule),
          validFrom: i.validFrom, validTo: i.validTo, transactionId: i.transactionRef,
          // One schedule; its id is the profile's, which is ours and unique per charger.
          chargingSchedule: [defined({
            id: i.profileId, startSchedule: i.schedule.startSchedule, duration: i.schedule.durationS, chargingRateUnit: i.schedule.unit,
            chargingSchedulePeriod: i.schedule.periods.map(period16),
          })],
        }),
      },
      answer: statusAnswer(),
    }),
  });

  return {
    /** Sends a charging profile; the charger keeps it until it ends or is replaced. */
    async setChargingProfile(chargerId: string, input: ChargingProfileInput, opts: Parameters<typeof set>[2]): Promise<CommandAnswer> {
      if (input.purpose !== 'session' || input.transactionId === undefined) return set(chargerId, input, opts);
      if (await runner.protocolOf(chargerId) !== 'ocpp2.0.1') return set(chargerId, input, opts);
      // 2.0.1 names a session by the charger's own transactionId, which only this charger's sessions map to.
      const transactionRef = await runner.transactionRef?.(chargerId, input.transactionId);
      if (!transactionRef) throw new CommandPayloadError(`transaction ${input.transactionId} is not one of ${chargerId}`, [{ field: 'transactionId', message: 'is not a transaction of this charger' }]);
      return set(chargerId, { ...input, transactionRef }, opts);
    },

    /** Removes profiles: by id, or every one that matches the rest (none given: all of ours and the others'). */
    clearChargingProfile: neutral<ClearProfileInput, CommandAnswer>(runner, 'clearChargingProfile', {
      'ocpp1.6': (i) => ({
        action: 'ClearChargingProfile',
        payload: defined({ id: i.profileId, connectorId: i.connectorId, chargingProfilePurpose: i.purpose && PURPOSE_16[i.purpose], stackLevel: i.stackLevel }),
        answer: statusAnswer(),
      }),
      'ocpp2.0.1': (i) => {
        const criteria = defined({ evseId: i.connectorId, chargingProfilePurpose: i.purpose && PURPOSE_201[i.purpose], stackLevel: i.stackLevel });
        return {
          action: 'ClearChargingProfile',
          payload: defined({ chargingProfileId: i.profileId, chargingProfileCriteria: Object.keys(criteria).length ? criteria : undefined }),
          answer: statusAnswer(),
        };
      },
    }),

    /** What the charger will apply over the next `durationS`, all its profiles combined. */
    getCompositeSchedule: neutral<CompositeScheduleInput, CompositeScheduleAnswer>(runner, 'getCompositeSchedule', {
      'ocpp1.6': (i) => ({
        action: 'GetCompositeSchedule',
        payload: defined({ connectorId: i.connectorId, duration: i.durationS, chargingRateUnit: i.unit }),
        answer: compositeAnswer,
      }),
      'ocpp2.0.1': (i) => ({
        action: 'GetCompositeSchedule',
        payload: defined({ evseId: i.connectorId, duration: i.durationS, chargingRateUnit: i.unit }),
        answer: compositeAnswer,
      }),
    }),

    /** Which units and stack levels the charger's profiles may use. */
    smartChargingSettings: neutral<Record<string, never>, SmartChargingSettings>(runner, 'smartChargingSettings', {
      'ocpp1.6': () => configurationWire(SETTINGS, readSettings),
      'ocpp2.0.1': () => variablesWire(SETTINGS, readSettings),
    }),
  };
}
