import type { TestApp, TestChargePoint } from '../kit/index.js';
import { eventually } from '../kit/index.js';

/** Helpers for device model tests: a small but realistic 2.0.1 model, sent as a report in parts. */

type Attr = { type?: string; value?: string; mutability?: string };
type Chars = { unit?: string; dataType: string; minLimit?: number; maxLimit?: number; valuesList?: string; supportsMonitoring: boolean };

export function entry(component: string | { name: string; instance?: string; evse?: { id: number; connectorId?: number } }, variable: string | { name: string; instance?: string }, attrs: Attr[], chars?: Chars) {
  return {
    component: typeof component === 'string' ? { name: component } : component,
    variable: typeof variable === 'string' ? { name: variable } : variable,
    variableAttribute: attrs,
    ...(chars ? { variableCharacteristics: chars } : {}),
  };
}

const rw = (value: string): Attr[] => [{ type: 'Actual', value, mutability: 'ReadWrite' }];
const ro = (value: string): Attr[] => [{ type: 'Actual', value, mutability: 'ReadOnly' }];
const MEASURANDS = 'Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC';

/** What the test station reports: two EVSEs of one connector each, smart charging, local list, security profile 2. */
export const MODEL = [
  entry('ChargingStation', 'Power', ro('22000'), { unit: 'W', dataType: 'decimal', maxLimit: 22000, supportsMonitoring: true }),
  entry({ name: 'EVSE', evse: { id: 1 } }, 'Power', ro('11000'), { unit: 'W', dataType: 'decimal', maxLimit: 11000, supportsMonitoring: true }),
  entry({ name: 'EVSE', evse: { id: 2 } }, 'Power', ro('11000'), { unit: 'W', dataType: 'decimal', maxLimit: 11000, supportsMonitoring: true }),
  entry({ name: 'Connector', evse: { id: 1, connectorId: 1 } }, 'ConnectorType', ro('cType2'), { dataType: 'string', supportsMonitoring: false }),
  entry({ name: 'Connector', evse: { id: 2, connectorId: 1 } }, 'ConnectorType', ro('cCCS2'), { dataType: 'string', supportsMonitoring: false }),
  entry('OCPPCommCtrlr', 'HeartbeatInterval', rw('300'), { unit: 's', dataType: 'integer', minLimit: 10, maxLimit: 86400, supportsMonitoring: false }),
  entry('SampledDataCtrlr', 'TxUpdatedMeasurands', rw('Energy.Active.Import.Register,Power.Active.Import'), { dataType: 'MemberList', valuesList: MEASURANDS, supportsMonitoring: false }),
  entry('SmartChargingCtrlr', 'Enabled', rw('true'), { dataType: 'boolean', supportsMonitoring: false }),
  entry('SmartChargingCtrlr', 'RateUnit', ro('A,W'), { dataType: 'MemberList', valuesList: 'A,W', supportsMonitoring: false }),
  entry('SmartChargingCtrlr', { name: 'Entries', instance: 'ChargingProfiles' }, ro('0'), { dataType: 'integer', maxLimit: 16, supportsMonitoring: false }),
  entry('SmartChargingCtrlr', 'ProfileStackLevel', ro('8'), { dataType: 'integer', supportsMonitoring: false }),
  entry('LocalAuthListCtrlr', 'Enabled', rw('true'), { dataType: 'boolean', supportsMonitoring: false }),
  entry('LocalAuthListCtrlr', 'Entries', ro('12'), { dataType: 'integer', maxLimit: 500, supportsMonitoring: false }),
  entry('AuthCacheCtrlr', 'Enabled', rw('false'), { dataType: 'boolean', supportsMonitoring: false }),
  entry('SecurityCtrlr', 'SecurityProfile', ro('2'), { dataType: 'integer', supportsMonitoring: false }),
  entry('SecurityCtrlr', 'BasicAuthPassword', [{ type: 'Actual', value: 'charger-secret-pw', mutability: 'WriteOnly' }], { dataType: 'string', supportsMonitoring: false }),
  entry('TxCtrlr', 'TxStartPoint', rw('Authorized,EVConnected'), { dataType: 'MemberList', valuesList: 'Authorized,EVConnected,PowerPathClosed', supportsMonitoring: false }),
  entry('TxCtrlr', 'TxStopPoint', rw('EVConnected'), { dataType: 'MemberList', valuesList: 'Authorized,EVConnected,PowerPathClosed', supportsMonitoring: false }),
  entry('TxCtrlr', 'EVConnectionTimeOut', [
    { type: 'Actual', value: '60', mutability: 'ReadWrite' }, { type: 'MaxSet', value: '600', mutability: 'ReadOnly' },
  ], { unit: 's', dataType: 'integer', supportsMonitoring: false }),
];

/**
 * Makes the station answer GetBaseReport Accepted and then send `model` as NotifyReports of `perPart` entries (`gapMs` apart);
 * answers GetVariables and SetVariables from a small store of its own (unknown names answered as such).
 */
export function serveModel(cp: TestChargePoint, model = MODEL, perPart = 7, gapMs = 0) {
  const values = new Map<string, string>();
  const keyOf = (c: { name: string; evse?: { id: number; connectorId?: number } }, v: { name: string; instance?: string }, type = 'Actual') =>
    `${c.name}/${c.evse?.id ?? 0}/${c.evse?.connectorId ?? 0}/${v.name}/${v.instance ?? ''}/${type}`.toLowerCase();
  for (const e of model) for (const a of e.variableAttribute) if (a.value !== undefined) values.set(keyOf(e.component, e.variable, a.type), a.value);
  const seen = { reports: [] as unknown[], gets: [] as unknown[], sets: [] as unknown[] };
  cp.handle('GetBaseReport', ({ params }) => {
    seen.reports.push(params);
    setTimeout(() => void (async () => {
      for (let i = 0, seqNo = 0; i < model.length; i += perPart, seqNo++) {
        if (seqNo > 0 && gapMs) await new Promise((r) => setTimeout(r, gapMs));
        await cp.call('NotifyReport', {
          requestId: params.requestId, generatedAt: new Date().toISOString(), seqNo, tbc: i + perPart < model.length, reportData: model.slice(i, i + perPart),
        });
      }
    })().catch(() => undefined), 20);
    return { status: 'Accepted' };
  });
  const known = (c: { name: string }) => model.some((e) => e.component.name.toLowerCase() === c.name.toLowerCase());
  cp.handle('GetVariables', ({ params }) => {
    seen.gets.push(params);
    return {
      getVariableResult: params.getVariableData.map((d: { component: { name: string }; variable: { name: string }; attributeType?: string }) => {
        const v = values.get(keyOf(d.component, d.variable, d.attributeType));
        const status = v !== undefined ? 'Accepted' : known(d.component) ? 'UnknownVariable' : 'UnknownComponent';
        return { attributeStatus: status, ...(v !== undefined ? { attributeValue: v } : {}), component: d.component, variable: d.variable };
      }),
    };
  });
  cp.handle('SetVariables', ({ params }) => {
    seen.sets.push(params);
    return {
      setVariableResult: params.setVariableData.map((d: { component: { name: string }; variable: { name: string }; attributeValue: string; attributeType?: string }) => {
        const k = keyOf(d.component, d.variable, d.attributeType);
        let status = values.has(k) ? 'Accepted' : known(d.component) ? 'UnknownVariable' : 'UnknownComponent';
        if (status === 'Accepted' && d.variable.name === 'EVConnectionTimeOut') status = 'RebootRequired';
        if (status === 'Accepted' && d.variable.name === 'HeartbeatInterval' && Number(d.attributeValue) < 10) status = 'Rejected';
        if (status === 'Accepted') values.set(k, d.attributeValue);
        return {
          attributeStatus: status, component: d.component, variable: d.variable, ...(d.attributeType ? { attributeType: d.attributeType } : {}),
          ...(status === 'Rejected' ? { attributeStatusInfo: { reasonCode: 'ValueTooLow', additionalInfo: 'at least 10 s' } } : {}),
        };
      }),
    };
  });
  return { values, seen, keyOf };
}

/** Asks for a report through the API and waits until it is finished. */
export async function refreshed(t: TestApp, id: string): Promise<{ requestId: number }> {
  const res = await t.api('POST', `/chargers/${id}/device-model/refresh`);
  if (res.status !== 202) throw new Error(`refresh ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  await eventually(async () => (await t.api('GET', `/chargers/${id}/device-model`)).body.report?.state === 'finished');
  return res.body;
}
