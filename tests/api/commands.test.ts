import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../kit/index.js';

let t: TestApp;
const apps = useApp();

describe('remote commands through the API', () => {
  it('sends a command to the charger and returns its reply', async () => {
    t = await apps.start();
    const cp = await t.chargePoint('CMD1');
    await cp.boot();
    let received: unknown = null;
    cp.handle('RemoteStartTransaction', ({ params }) => { received = params; return { status: 'Accepted' }; });
    const res = await t.api('POST', '/chargers/CMD1/commands/RemoteStartTransaction', { body: { connectorId: 1, idTag: 'REMOTE1' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ response: { status: 'Accepted' } });
    expect(received).toEqual({ connectorId: 1, idTag: 'REMOTE1' });
    const audit = await t.api('GET', '/audit?action=command.RemoteStartTransaction');
    expect(audit.body[0]).toMatchObject({ actor: 'admin', target: 'CMD1' });
  });

  it('answers 409 when the charger is offline and 404 for an unknown charger or action', async () => {
    t = await apps.start();
    const cp = await t.chargePoint('OFF1');
    await cp.boot();
    await cp.close({ code: 1000 });
    await new Promise((r) => setTimeout(r, 100));
    expect((await t.api('POST', '/chargers/OFF1/commands/Reset', { body: { type: 'Soft' } })).status).toBe(409);
    expect((await t.api('POST', '/chargers/NOPE/commands/Reset', { body: { type: 'Soft' } })).status).toBe(404);
    expect((await t.api('POST', '/chargers/OFF1/commands/SelfDestruct', { body: {} })).status).toBe(404);
  });

  it('answers 504 when the charger does not answer in time', async () => {
    t = await apps.start({ config: { ocpp: { callTimeout: '300ms' } } });
    const cp = await t.chargePoint('SLOW1');
    await cp.boot();
    cp.handle('Reset', () => new Promise(() => undefined)); // never answers
    const res = await t.api('POST', '/chargers/SLOW1/commands/Reset', { body: { type: 'Hard' } });
    expect(res.status).toBe(504);
    expect(res.body.message).toMatch(/did not answer/);
  });

  it('answers 400 naming the field when the payload is not valid OCPP', async () => {
    t = await apps.start();
    const cp = await t.chargePoint('VAL1');
    await cp.boot();
    const res = await t.api('POST', '/chargers/VAL1/commands/Reset', { body: { type: 'Gentle' } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'type', message: 'must be one of Hard, Soft' }]);
    const missing = await t.api('POST', '/chargers/VAL1/commands/RemoteStartTransaction', { body: { connectorId: 1 } });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([expect.objectContaining({ field: 'idTag' })]);
  });

  it('answers 502 with the charger\'s CALLERROR', async () => {
    t = await apps.start();
    const cp = await t.chargePoint('ERR1');
    await cp.boot();
    const res = await t.api('POST', '/chargers/ERR1/commands/GetLocalListVersion', { body: {} });
    expect(res.status).toBe(502);
    expect(res.body.message).toMatch(/NotImplemented/);
  });

  it('lists every command of the six OCPP 1.6 profiles with a valid example', async () => {
    t = await apps.start();
    const res = await t.api('GET', '/commands');
    const profiles = new Set(res.body.map((c: { profile: string }) => c.profile));
    expect(profiles).toEqual(new Set(['Core', 'FirmwareManagement', 'LocalAuthListManagement', 'Reservation', 'RemoteTrigger', 'SmartCharging', 'Security']));
    // 19, and the security whitepaper's SignedUpdateFirmware and GetLog, its four certificate commands and ExtendedTriggerMessage.
    expect(res.body).toHaveLength(26);
    const { OcppServer } = await import('../../core/ocpp/server.js');
    for (const c of res.body as Array<{ action: string; example: unknown }>) expect(() => OcppServer.validateCommand(c.action, c.example)).not.toThrow();
  });
});
