import { describe, expect, it } from 'vitest';
import { toRows, toSamples } from '../v16/sampled-values.js';
import { as16 } from './meter-values.js';

describe('OCPP 2.0.1 sampled values', () => {
  it('apply the unit and its power-of-ten multiplier, then normalise to SI like 1.6 readings', () => {
    const rows = toRows(as16([{
      timestamp: '2026-12-01T10:00:00Z',
      sampledValue: [
        { value: 12.5, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh', multiplier: 3 } },
        { value: 7.4, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'kW' } },
        { value: 2301, measurand: 'Voltage', phase: 'L1-N', unitOfMeasure: { unit: 'V', multiplier: -1 } },
        { value: 16, measurand: 'Current.Import', phase: 'L2' },
        { value: 80, measurand: 'SoC', location: 'EV', unitOfMeasure: { unit: 'Percent' } },
      ],
    }]), (ts) => new Date(ts).toISOString());
    expect(rows.map((r) => [r.measurand, r.unit, r.value])).toEqual([
      ['Energy.Active.Import.Register', 'Wh', 12500], ['Power.Active.Import', 'W', 7400], ['Voltage', 'V', 230.1],
      ['Current.Import', 'A', 16], ['SoC', 'Percent', 80],
    ]);
    const [s] = toSamples(rows, { chargerId: 'ST1', connectorId: 1 });
    expect(s).toMatchObject({ energyImportWh: 12500, powerW: 7400, voltageV: [230.1], socPct: 80 });
    expect(s!.currentA).toEqual([undefined, 16]);
  });

  it('take an energy reading without a unit as Wh, the 2.0.1 default', () => {
    const rows = toRows(as16([{ timestamp: '2026-12-01T10:00:00Z', sampledValue: [{ value: 1234 }] }]), (ts) => ts);
    expect(rows).toMatchObject([{ measurand: 'Energy.Active.Import.Register', unit: 'Wh', value: 1234 }]);
  });
});
