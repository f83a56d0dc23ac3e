import type { MeterSample } from '../../events.js';
import { CAR_SIDE_LOCATIONS } from '../../readings.js';
import type { UnitHints } from '../sampled-units.js';

export interface SampledValue {
  value: string; context?: string; format?: string; measurand?: string; phase?: string; location?: string; unit?: string;
}
export interface MeterValue { timestamp: string; sampledValue: SampledValue[] }

/** One stored reading in SI units (Wh, W, V, A, %, Hz, varh, var). */
export interface MeterRow {
  at: string; measurand: string; phase: string; location: string; context: string; unit: string; value: number;
}

const SCALE: Record<string, { unit: string; factor: number }> = {
  kWh: { unit: 'Wh', factor: 1000 }, kW: { unit: 'W', factor: 1000 },
  kvarh: { unit: 'varh', factor: 1000 }, kvar: { unit: 'var', factor: 1000 },
  kVA: { unit: 'VA', factor: 1000 },
};

const DEFAULT_UNIT: Record<string, string> = {
  'Energy.Active.Import.Register': 'Wh', 'Energy.Active.Export.Register': 'Wh',
  'Power.Active.Import': 'W', 'Power.Active.Export': 'W', 'Power.Offered': 'W',
  'Current.Import': 'A', 'Current.Export': 'A', 'Current.Offered': 'A', Voltage: 'V',
  SoC: 'Percent', Frequency: 'Hz', Temperature: 'Celsius', 'Power.Factor': '',
};

/**
 * Normalises OCPP sampled values to SI rows; signed data and non-numeric values are skipped.
 * Hints (the charger's model is known to mean another unit) decide the unit of their measurands.
 */
export function toRows(values: MeterValue[], normalise: (ts: string) => string, hints?: UnitHints): MeterRow[] {
  const rows: MeterRow[] = [];
  for (const mv of values) {
    const at = normalise(mv.timestamp);
    for (const sv of mv.sampledValue) {
      if (sv.format === 'SignedData') continue;
      const raw = Number(sv.value);
      if (!Number.isFinite(raw)) continue;
      const measurand = sv.measurand ?? 'Energy.Active.Import.Register';
      const hint = hints?.get(measurand);
      const givenUnit = (hint && (hint.replace || sv.unit === undefined) ? hint.unit : sv.unit) ?? DEFAULT_UNIT[measurand] ?? '';
      const scale = SCALE[givenUnit];
      rows.push({
        at, measurand, phase: sv.phase ?? '', location: sv.location ?? '', context: sv.context ?? '',
        unit: scale ? scale.unit : givenUnit, value: scale ? raw * scale.factor : raw,
      });
    }
  }
  return rows;
}

/** 0, 1 or 2 for a phase such as "L2" or "L2-N"; -1 for none or another. */
function phaseIndex(phase: string): number {
  if (phase.charCodeAt(0) !== 76 /* L */) return -1;
  const n = phase.charCodeAt(1) - 49; /* '1' */
  return n >= 0 && n <= 2 ? n : -1;
}

const CAR_SIDE = new Set(CAR_SIDE_LOCATIONS);

/** Folds rows of one timestamp into bus samples; only car-side readings (core/readings.ts) describe the car's energy. */
export function toSamples(rows: MeterRow[], base: Omit<MeterSample, 'at' | 'source'>): MeterSample[] {
  // Nearly every message has one timestamp: a list searched from its end beats a Map on this hot path.
  const samples: MeterSample[] = [];
  let s: MeterSample | undefined;
  for (const r of rows) {
    if (!CAR_SIDE.has(r.location)) continue;
    if (s === undefined || s.at !== r.at) {
      s = undefined;
      for (let i = samples.length - 1; i >= 0; i--) if (samples[i]!.at === r.at) { s = samples[i]; break; }
      if (s === undefined) samples.push(s = { ...base, source: 'ocpp', at: r.at });
    }
    switch (r.measurand) {
      case 'Energy.Active.Import.Register':
        if (!r.phase) s.energyImportWh = r.value;
        break;
      case 'Energy.Active.Export.Register':
        if (!r.phase) s.energyExportWh = r.value;
        break;
      case 'Power.Active.Import':
        if (!r.phase) s.powerW = r.value;
        else s.powerW = (s.powerW ?? 0) + r.value;
        break;
      case 'Voltage': {
        const phase = phaseIndex(r.phase);
        if (phase >= 0) (s.voltageV ??= [])[phase] = r.value;
        else if (!r.phase) s.voltageV = [r.value];
        break;
      }
      case 'Current.Import': {
        const phase = phaseIndex(r.phase);
        if (phase >= 0) (s.currentA ??= [])[phase] = r.value;
        else if (!r.phase) s.currentA = [r.value];
        break;
      }
      case 'SoC':
        s.socPct = r.value;
        break;
      case 'Frequency':
        s.frequencyHz = r.value;
        break;
      case 'Power.Factor':
        s.powerFactor = r.value;
        break;
      default:
        break;
    }
  }
  // ISO UTC strings of one format sort by plain comparison; localeCompare costs far more.
  return samples.length > 1 ? samples.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)) : samples;
}
