import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { rawCharger, type TestApp, useApp } from '../kit/index.js';

let t: TestApp;
const apps = useApp();


describe('bad OCPP input', () => {
  it('answers a schema-invalid payload with the right CALLERROR and keeps the charger connected', async () => {
    t = await apps.start();
    const cp = await t.chargePoint('BAD1', { strict: false });
    const other = await t.chargePoint('GOOD1');
    await cp.boot();
    await expect(cp.call('StatusNotification', { connectorId: 1, status: 'Exploding', errorCode: 'NoError' }))
      .rejects.toMatchObject({ rpcErrorCode: 'PropertyConstraintViolation' });
    // Spelt as corrected by the OCPP-J 1.6 errata (section 5).
    await expect(cp.call('StartTransaction', { connectorId: 1, idTag: 'T' }))
      .rejects.toMatchObject({ rpcErrorCode: 'OccurrenceConstraintViolation' });
    await expect(cp.call('MeterValues', { connectorId: 'one', meterValue: [] }))
      .rejects.toMatchObject({ rpcErrorCode: 'TypeConstraintViolation' });
    await expect(cp.call('FlyToTheMoon', {})).rejects.toMatchObject({ rpcErrorCode: 'NotImplemented' });
    // Still connected and served, and the other charger never noticed.
    expect(await cp.call('Heartbeat', {})).toHaveProperty('currentTime');
    expect((await other.boot()).status).toBe('Accepted');
    expect((await t.api('GET', '/chargers')).body.find((c: { id: string }) => c.id === 'BAD1').online).toBe(true);
  });

  it('answers a malformed frame with an RPC framework CALLERROR and keeps the socket open', async () => {
    t = await apps.start();
    const raw = await rawCharger(t.port, 'RAW1');
    raw.ws.send('this is not json');
    const err1 = await raw.next();
    expect(err1[0]).toBe(4);
    expect(['RpcFrameworkError', 'FormatViolation', 'FormationViolation']).toContain(err1[2]);
    raw.ws.send(JSON.stringify([2, 'm1', 'Heartbeat'])); // missing payload
    const err2 = await raw.next();
    expect(err2[0]).toBe(4);
    raw.ws.send(JSON.stringify([2, 'm2', 'Heartbeat', {}]));
    const ok = await raw.next();
    expect(ok).toEqual([3, 'm2', { currentTime: expect.any(String) }]);
    expect(raw.ws.readyState).toBe(WebSocket.OPEN);
    raw.ws.close();
  });
});
