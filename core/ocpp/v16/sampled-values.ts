import type { MeterSample } from '../../events.js';

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

/** Normalises OCPP sampled values to SI rows; signed data and non-numeric values are skipped. */
export function toRows(values: MeterValue[], normalise: (ts: string) => string): MeterRow[] {
  const rows: MeterRow[] = [];
  for (const mv of values) {
    const at = normalise(mv.timestamp);
    for (const sv of mv.sampledValue) {
      if (sv.format === 'SignedData') continue;
      const raw = Number(sv.value);
      if (!Number.isFinite(raw)) continue;
      const measurand = sv.measurand ?? 'Energy.Active.Import.Register';
      const givenUnit = sv.unit ?? DEFAULT_UNIT[measurand] ?? '';
      const scale = SCALE[givenUnit];
      rows.push({
        at, measurand, phase: sv.phase ?? '', location: sv.location ?? '', context: sv.context ?? '',
        unit: scale ? scale.unit : givenUnit, value: scale ? raw * scale.factor : raw,
      });
    }
  }
  return rows;
}

const PHASES = ['L1', 'L2', 'L3'];

/** Folds rows of one timestamp into bus samples; only Outlet/unspecified locations describe the car's energy. */
export function toSamples(rows: MeterRow[], base: Omit<MeterSample, 'at' | 'source'>): MeterSample[] {
  const byAt = new Map<string, MeterSample>();
  for (const r of rows) {
    if (r.location && r.location !== 'Outlet' && r.location !== 'Cable' && r.location !== 'EV') continue;
    const s = byAt.get(r.at) ?? { ...base, source: 'ocpp' as const, at: r.at };
    byAt.set(r.at, s);
    const phaseIdx = PHASES.findIndex((p) => r.phase.startsWith(p));
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
      case 'Voltage':
        if (phaseIdx >= 0) (s.voltageV ??= [])[phaseIdx] = r.value;
        else if (!r.phase) s.voltageV = [r.value];
        break;
      case 'Current.Import':
        if (phaseIdx >= 0) (s.currentA ??= [])[phaseIdx] = r.value;
        else if (!r.phase) s.currentA = [r.value];
        break;
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
  return [...byAt.values()].sort((a, b) => a.at.localeCompare(b.at));
}
