import { describe, expect, it } from 'vitest';
import type { VariableRow } from './store.js';
import { summarize } from './summary.js';

function row(component: string, variable: string, value: string | null, over: Partial<VariableRow> = {}): VariableRow {
  return {
    charger_id: 'CS1', component, component_instance: '', evse_id: 0, connector_id: 0, variable, variable_instance: '', attribute_type: 'Actual',
    value, mutability: 'ReadOnly', unit: null, data_type: null, min_limit: null, max_limit: null, values_list: null, supports_monitoring: null,
    report_id: 1, answer_status: null, answer_reason: null, answered_at: null, updated_at: '2026-12-01T00:00:00.000Z', ...over,
  };
}

describe('the device model summary', () => {
  it('says what is not reported rather than guessing', () => {
    const s = summarize([]);
    expect(s).toMatchObject({ evses: [], maxPowerW: null, smartCharging: null, securityProfile: null, heartbeatIntervalS: null, iso15118: null });
    expect(s.lines).toEqual([
      { topic: 'Smart charging', text: 'Not reported (no SmartChargingCtrlr).' },
      { topic: 'ISO 15118', text: 'Not reported (no ISO15118Ctrlr).' },
    ]);
  });

  it('reads names in any case, limits from MaxSet, and ISO 15118 settings', () => {
    const s = summarize([
      row('evse', 'power', null, { evse_id: 1 }),
      row('EVSE', 'Power', '7400', { evse_id: 1, attribute_type: 'MaxSet' }),
      row('Connector', 'Type', 'sType2', { evse_id: 1, connector_id: 1 }),
      row('ISO15118Ctrlr', 'PnCEnabled', 'TRUE'),
      row('SecurityCtrlr', 'SecurityProfile', '3'),
      row('OCPPCommCtrlr', 'HeartbeatInterval', '45'),
      row('SmartChargingCtrlr', 'Enabled', 'maybe'),
    ], '1.2.3');
    expect(s.evses).toEqual([{ evseId: 1, maxPowerW: 7400, connectors: [{ connectorId: 1, type: 'sType2' }] }]);
    expect(s.maxPowerW).toBe(7400);
    expect(Object.fromEntries(s.lines.map((l) => [l.topic, l.text]))).toEqual({
      EVSEs: '1 EVSE: EVSE 1 with connector 1 (sType2), up to 7.4 kW.',
      Power: 'Up to 7.4 kW.',
      'Smart charging': 'Present.',
      Security: 'Security profile 3: TLS with client certificates.',
      Heartbeat: 'Every 45 s.',
      Firmware: 'Runs firmware 1.2.3.',
      'ISO 15118': 'Present: Plug & Charge enabled, certificate installation not said.',
    });
  });
});
