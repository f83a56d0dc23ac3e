import { OCPP16, OCPP20, OCPP21 } from 'typed-ocpp';
import { describe, expect, it } from 'vitest';
import { eventually, type TestApp, useApp } from '../kit/index.js';
import { connectStation, type Station, upgrade } from './station.js';

let t: TestApp;
const apps = useApp();
const at = () => t.clock.iso();

async function booted(id: string): Promise<Station> {
  const st = await connectStation(t, id);
  await st.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'Interop', model: 'Edge' } });
  return st;
}

/** The CALLERROR code the appliance answers to this frame (it must be one: a CALLRESULT fails the test). */
async function errorCode(st: Station, action: string, payload: unknown): Promise<string> {
  const mid = `bad-${action}-${Math.random().toString(36).slice(2, 8)}`;
  const answer = await st.raw([2, mid, action, payload]);
  expect(answer[0], JSON.stringify(answer)).toBe(4);
  expect(answer[1]).toBe(mid);
  return String(answer[2]);
}

describe('the OCPP 2.0.1 edge, driven by a station built on typed-ocpp', () => {
  it('takes a station identity of exactly 48 characters and refuses one of 49', async () => {
    t = await apps.start();
    const id48 = `IOP-${'x'.repeat(44)}`;
    const st = await booted(id48);
    expect(st.protocol).toBe('ocpp2.0.1');
    expect((await t.api('GET', `/chargers/${id48}`)).body).toMatchObject({ id: id48, protocol: 'ocpp2.0.1', vendor: 'Interop' });
    expect((await upgrade(t, `${id48}y`, ['ocpp2.0.1'])).status).toBe(400);
    expect(((await t.api('GET', '/chargers')).body as Array<{ id: string }>).map((c) => c.id)).toEqual([id48]);
    expect(st.violations).toEqual([]);
  });

  it('answers what the OCA schemas refuse with the OCPP-J 2.0.1 CALLERROR codes, and the station stays connected', async () => {
    t = await apps.start();
    const st = await booted('IOP-STRICT');
    const cases: Array<[string, string, unknown]> = [
      // Not an object where the schema has one.
      ['FormatViolation', 'Heartbeat', 'beat'],
      ['FormatViolation', 'BootNotification', [1, 2]],
      // A value outside its enumeration, or longer than its maxLength.
      ['PropertyConstraintViolation', 'StatusNotification', { timestamp: at(), connectorStatus: 'Exploding', evseId: 1, connectorId: 1 }],
      ['PropertyConstraintViolation', 'Authorize', { idToken: { idToken: 'X'.repeat(37), type: 'ISO14443' } }],
      // A required field missing (seqNo).
      ['OccurrenceConstraintViolation', 'TransactionEvent', { eventType: 'Started', timestamp: at(), triggerReason: 'Authorized', transactionInfo: { transactionId: 'x' } }],
      // A string where an integer belongs.
      ['TypeConstraintViolation', 'MeterValues', { evseId: 'one', meterValue: [{ timestamp: at(), sampledValue: [{ value: 1 }] }] }],
    ];
    for (const [code, action, payload] of cases) {
      // The other project's validator refuses it too, so the case is a real schema breach and not our opinion.
      expect(OCPP20.validateCall([2, 'x', action, payload]), `${action} ${JSON.stringify(payload).slice(0, 60)}`).toBe(false);
      expect(await errorCode(st, action, payload), `${action} ${JSON.stringify(payload).slice(0, 60)}`).toBe(code);
    }
    expect(await st.call('Heartbeat', {})).toEqual({ currentTime: expect.any(String) });
    expect((await t.api('GET', '/chargers/IOP-STRICT')).body.online).toBe(true);
    // Every CALLERROR was itself a valid OCPP-J 2.0.1 frame.
    expect(st.violations).toEqual([]);
  });

  it('answers NotImplemented to an unknown action and to a 2.1-only one, and refuses the ocpp2.1 subprotocol at the upgrade', async () => {
    t = await apps.start();
    const st = await booted('IOP-NEWER');
    expect(await errorCode(st, 'FlyToTheMoon', {})).toBe('NotImplemented');
    // A well-formed OCPP 2.1 message that 2.0.1 does not have.
    const only21 = [2, 'p1', 'PullDynamicScheduleUpdate', { chargingProfileId: 1 }];
    expect(OCPP21.validateCall(only21)).toBe(true);
    expect(OCPP20.validateCall(only21)).toBe(false);
    expect(await errorCode(st, 'PullDynamicScheduleUpdate', { chargingProfileId: 1 })).toBe('NotImplemented');
    expect(await st.call('Heartbeat', {})).toHaveProperty('currentTime');

    expect((await upgrade(t, 'IOP-21', ['ocpp2.1'])).status).toBe(400);
    expect(await upgrade(t, 'IOP-21', ['ocpp2.1', 'ocpp2.0.1'])).toEqual({ status: 101, protocol: 'ocpp2.0.1' });
    expect(st.violations).toEqual([]);
  });

  it('ignores a CALLRESULT and a CALLERROR that answer nothing it sent', async () => {
    t = await apps.start();
    const st = await booted('IOP-STRAY');
    st.ws.send(JSON.stringify([3, 'never-sent-1', { status: 'Accepted' }]));
    st.ws.send(JSON.stringify([4, 'never-sent-2', 'InternalError', 'stray', {}]));
    // Answers go on in order: the heartbeat after the stray frames is the next thing answered.
    expect(await st.call('Heartbeat', {})).toHaveProperty('currentTime');
    expect(st.violations).toEqual([]);
    expect(st.ws.readyState).toBe(st.ws.OPEN);
    await eventually(async () => (await t.api('GET', '/chargers/IOP-STRAY')).body.online === true);
  });
});

describe('the OCPP 1.6J edge, driven by a charge point built on typed-ocpp', () => {
  it('answers schema breaches with CALLERRORs that are valid OCPP-J 1.6 and keeps the charge point connected', async () => {
    t = await apps.start();
    const cp = await connectStation(t, 'IOP-16-STRICT', { protocols: ['ocpp1.6'] });
    await cp.call('BootNotification', { chargePointVendor: 'Interop', chargePointModel: 'Edge16' });
    const bad: Array<[string, unknown]> = [
      ['StatusNotification', { connectorId: 1, status: 'Exploding', errorCode: 'NoError' }],
      ['StartTransaction', { connectorId: 1, idTag: 'A', timestamp: at() }],
      ['MeterValues', { connectorId: 'one', meterValue: [] }],
      ['Authorize', { idTag: 'X'.repeat(21) }],
    ];
    const codes: string[] = [];
    for (const [action, payload] of bad) {
      expect(OCPP16.validateCall([2, 'x', action, payload])).toBe(false);
      codes.push(await errorCode(cp, action, payload));
    }
    // The OCPP-J 1.6 text spells it OccurenceConstraintViolation; typed-ocpp's 1.6 schema (checking each frame) and ocpp-rpc agree on two r's.
    expect(codes).toEqual(['PropertyConstraintViolation', 'OccurrenceConstraintViolation', 'TypeConstraintViolation', 'PropertyConstraintViolation']);
    expect(await errorCode(cp, 'FlyToTheMoon', {})).toBe('NotImplemented');
    expect(await cp.call('Heartbeat', {})).toHaveProperty('currentTime');
    expect(cp.violations).toEqual([]);
  });
});
