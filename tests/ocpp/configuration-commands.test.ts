import { describe, expect, it } from 'vitest';
import { sendErrorOf } from '../../core/ocpp/send-error.js';
import { useApp } from '../kit/index.js';
import { boot201, station } from './v201-kit.js';

const as = { actor: 'plugin:test' };

describe('setConfiguration and getConfiguration: one call, each charger in its own version', () => {
  const apps = useApp();

  it('changes a 1.6 key with ChangeConfiguration and a 2.0.1 variable with SetVariables, answering both the same way', async () => {
    const t = await apps.start();
    const old = await t.chargePoint('CP16');
    await old.boot();
    const got16: unknown[] = [];
    old.handle('ChangeConfiguration', ({ params }) => {
      got16.push(params);
      return { status: params.key === 'MeterValuesSampledData' ? 'RebootRequired' : params.key === 'Nope' ? 'NotSupported' : 'Accepted' };
    });
    const modern = await station(t, 'CS201');
    await boot201(modern);
    const got201: unknown[] = [];
    modern.handle('SetVariables', ({ params }) => {
      got201.push(params);
      const d = params.setVariableData[0];
      const status = d.component.name === 'NoSuchCtrlr' ? 'UnknownComponent' : d.variable.name === 'EVConnectionTimeOut' ? 'RebootRequired' : 'Accepted';
      return { setVariableResult: [{ attributeStatus: status, component: d.component, variable: d.variable,
        ...(status === 'UnknownComponent' ? { attributeStatusInfo: { reasonCode: 'NotFound', additionalInfo: 'no such controller' } } : {}) }] };
    });
    const set = t.app.core.chargers.commands.setConfiguration;

    expect(await set('CP16', { key: 'HeartbeatInterval', value: '120' }, as)).toEqual({ accepted: true, rebootRequired: false, status: 'Accepted' });
    expect(await set('CP16', { key: 'MeterValuesSampledData', value: 'Voltage' }, as)).toEqual({ accepted: true, rebootRequired: true, status: 'RebootRequired' });
    expect(await set('CP16', { key: 'Nope', value: '1' }, as)).toEqual({ accepted: false, rebootRequired: false, status: 'NotSupported' });
    expect(got16).toEqual([{ key: 'HeartbeatInterval', value: '120' }, { key: 'MeterValuesSampledData', value: 'Voltage' }, { key: 'Nope', value: '1' }]);

    expect(await set('CS201', { key: 'OCPPCommCtrlr.HeartbeatInterval', value: '120' }, as)).toEqual({ accepted: true, rebootRequired: false, status: 'Accepted' });
    expect(await set('CS201', { key: 'TxCtrlr.EVConnectionTimeOut', value: '90' }, as)).toEqual({ accepted: true, rebootRequired: true, status: 'RebootRequired' });
    expect(await set('CS201', { key: 'NoSuchCtrlr[2].Thing[x]', value: '1' }, as))
      .toEqual({ accepted: false, rebootRequired: false, status: 'UnknownComponent', reason: 'NotFound: no such controller' });
    expect(got201).toEqual([
      { setVariableData: [{ attributeType: 'Actual', attributeValue: '120', component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] },
      { setVariableData: [{ attributeType: 'Actual', attributeValue: '90', component: { name: 'TxCtrlr' }, variable: { name: 'EVConnectionTimeOut' } }] },
      { setVariableData: [{ attributeType: 'Actual', attributeValue: '1', component: { name: 'NoSuchCtrlr', instance: '2' }, variable: { name: 'Thing', instance: 'x' } }] },
    ]);
  });

  it('refuses a key a 2.0.1 charger cannot take before anything is sent, naming the field and how to write it', async () => {
    const t = await apps.start();
    const modern = await station(t, 'CS201');
    await boot201(modern);
    let calls = 0;
    modern.handle('SetVariables', () => { calls++; return { setVariableResult: [] }; });
    modern.handle('GetVariables', () => { calls++; return { getVariableResult: [] }; });
    const err = await t.app.core.chargers.commands.setConfiguration('CS201', { key: 'HeartbeatInterval', value: '1' }, as).catch((e: unknown) => e);
    const e = sendErrorOf(err);
    expect(e?.kind).toBe('invalid');
    expect(e?.kind === 'invalid' && e.fields).toEqual([{ field: 'key', message: '"HeartbeatInterval" is not an OCPP 2.0.1 key: write Component.Variable, e.g. OCPPCommCtrlr.HeartbeatInterval' }]);
    const many = await t.app.core.chargers.commands.getConfiguration('CS201', { keys: ['A.B', 'A.B.C'] }, as).catch((x: unknown) => x);
    expect(sendErrorOf(many)?.kind === 'invalid' && (sendErrorOf(many) as { fields: Array<{ field: string }> }).fields[0]!.field).toBe('keys[1]');
    const none = await t.app.core.chargers.commands.getConfiguration('CS201', { keys: [] }, as).catch((x: unknown) => x);
    expect((none as Error).message).toMatch(/^keys: name at least one Component.Variable key/);
    expect(calls).toBe(0);
  });

  it('reads keys with GetConfiguration or GetVariables, unknown ones listed apart', async () => {
    const t = await apps.start();
    const old = await t.chargePoint('CP16');
    await old.boot();
    const asked16: unknown[] = [];
    old.handle('GetConfiguration', ({ params }) => {
      asked16.push(params);
      return { configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }, { key: 'NumberOfConnectors', readonly: true, value: '2' }], unknownKey: ['Nope'] };
    });
    const modern = await station(t, 'CS201');
    await boot201(modern);
    modern.handle('GetVariables', ({ params }) => ({
      // Answered in another order and case than asked: matched by name.
      getVariableResult: [...params.getVariableData].reverse().map((d: { component: { name: string }; variable: { name: string } }) => (
        d.variable.name === 'Nope'
          ? { attributeStatus: 'UnknownVariable', component: d.component, variable: d.variable }
          : { attributeStatus: 'Accepted', attributeValue: '300', component: { name: d.component.name.toLowerCase() }, variable: d.variable })),
    }));
    const get = t.app.core.chargers.commands.getConfiguration;
    expect(await get('CP16', { keys: ['HeartbeatInterval', 'NumberOfConnectors', 'Nope'] }, as)).toEqual({
      values: [{ key: 'HeartbeatInterval', value: '300', readonly: false }, { key: 'NumberOfConnectors', value: '2', readonly: true }], unknown: ['Nope'],
    });
    await get('CP16', { keys: [] }, as);
    expect(asked16).toEqual([{ key: ['HeartbeatInterval', 'NumberOfConnectors', 'Nope'] }, {}]);
    expect(await get('CS201', { keys: ['OCPPCommCtrlr.HeartbeatInterval', 'OCPPCommCtrlr.Nope'] }, as)).toEqual({
      values: [{ key: 'OCPPCommCtrlr.HeartbeatInterval', value: '300', readonly: null }], unknown: ['OCPPCommCtrlr.Nope'],
    });
  });
});
