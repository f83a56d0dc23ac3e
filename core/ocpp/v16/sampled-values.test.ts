import { describe, expect, it } from 'vitest';
import { toRows, toSamples } from './sampled-values.js';

describe('sampled values', () => {
  it('folds three-phase readings of several timestamps into samples in time order, in SI units', () => {
    const rows = toRows([
      {
        timestamp: '2026-12-01T10:01:00Z',
        sampledValue: [
          { value: '12.5', measurand: 'Energy.Active.Import.Register', unit: 'kWh' },
          { value: '230.1', measurand: 'Voltage', phase: 'L1-N', unit: 'V' },
          { value: '231.2', measurand: 'Voltage', phase: 'L2-N', unit: 'V' },
          { value: '229.3', measurand: 'Voltage', phase: 'L3-N', unit: 'V' },
          { value: '16', measurand: 'Current.Import', phase: 'L2', unit: 'A' },
          { value: '3.7', measurand: 'Power.Active.Import', phase: 'L1', unit: 'kW' },
          { value: '3.6', measurand: 'Power.Active.Import', phase: 'L2', unit: 'kW' },
          { value: '99', measurand: 'Current.Import', phase: 'N', unit: 'A' },
          { value: 'n/a', measurand: 'SoC' },
        ],
      },
      { timestamp: '2026-12-01T10:00:00Z', sampledValue: [{ value: '12000' }] },
    ], (ts) => new Date(ts).toISOString());
    const samples = toSamples(rows, { chargerId: 'CP1', connectorId: 1 });
    expect(samples.map((s) => s.at)).toEqual(['2026-12-01T10:00:00.000Z', '2026-12-01T10:01:00.000Z']);
    expect(samples[0]).toMatchObject({ energyImportWh: 12000, source: 'ocpp' });
    expect(samples[1]).toMatchObject({ energyImportWh: 12500, powerW: 7300, voltageV: [230.1, 231.2, 229.3] });
    // Current on L2 only; the neutral conductor is not a phase.
    expect(samples[1]!.currentA).toEqual([undefined, 16]);
    expect(samples[1]).not.toHaveProperty('socPct');
  });

  it('reads a measurand in the unit a hint names: when the charger names none, or always when the hint replaces', () => {
    const values = [{
      timestamp: '2026-12-01T10:00:00Z',
      sampledValue: [
        { value: '12.5', measurand: 'Energy.Active.Import.Register' },
        { value: '7300', measurand: 'Power.Active.Import', unit: 'kW' },
        { value: '16', measurand: 'Current.Import', unit: 'A' },
      ],
    }];
    const hints = new Map([
      ['Energy.Active.Import.Register', { unit: 'kWh', replace: false }],
      ['Power.Active.Import', { unit: 'W', replace: true }],
      ['Current.Import', { unit: 'kW', replace: false }],
    ]);
    const [sample] = toSamples(toRows(values, (ts) => ts, hints), {});
    expect(sample).toMatchObject({ energyImportWh: 12500, powerW: 7300, currentA: [16] });
    const [plain] = toSamples(toRows(values, (ts) => ts), {});
    expect(plain).toMatchObject({ energyImportWh: 12.5, powerW: 7_300_000 });
  });
});
