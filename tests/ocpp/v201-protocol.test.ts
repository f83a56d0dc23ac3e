import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { createUser, eventually, rawCharger, sleep, type TestApp, useApp } from '../kit/index.js';
import { boot201, sendTx, station } from './v201-kit.js';

let t: TestApp;
const apps = useApp();


/** The HTTP status of an upgrade with this id offering these subprotocols, and the one the server chose. */
function upgrade(port: number, id: string, protocols: string[]): Promise<{ status: number; protocol?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/${id}`, protocols);
    ws.once('unexpected-response', (_req, res) => { resolve({ status: res.statusCode ?? 0 }); res.resume(); ws.terminate(); });
    ws.once('open', () => { resolve({ status: 101, protocol: ws.protocol }); ws.close(); });
    ws.once('error', (err) => { if (!String(err).includes('Unexpected server response')) reject(err); });
  });
}

describe('OCPP 2.0.1 on the shared endpoint', () => {
  it('answers bad payloads and unknown actions with the 2.0.1 CALLERRORs and keeps the station connected', async () => {
    t = await apps.start();
    const cp = await station(t, 'ST-BAD', { strict: false });
    await boot201(cp);
    const at = new Date().toISOString();
    await expect(cp.call('StatusNotification', { timestamp: at, connectorStatus: 'Exploding', evseId: 1, connectorId: 1 }))
      .rejects.toMatchObject({ rpcErrorCode: 'PropertyConstraintViolation' });
    // Spelled as OCPP-J 2.0.1 spells it (ocpp-rpc's own spelling lacks an r).
    await expect(cp.call('TransactionEvent', { eventType: 'Started', timestamp: at, triggerReason: 'Authorized', transactionInfo: { transactionId: 'x' } }))
      .rejects.toMatchObject({ rpcErrorCode: 'OccurrenceConstraintViolation' });
    await expect(cp.call('MeterValues', { evseId: 'one', meterValue: [{ timestamp: at, sampledValue: [{ value: 1 }] }] }))
      .rejects.toMatchObject({ rpcErrorCode: 'TypeConstraintViolation' });
    await expect(cp.call('Authorize', { idToken: { idToken: 'X'.repeat(37), type: 'ISO14443' } }))
      .rejects.toMatchObject({ rpcErrorCode: 'PropertyConstraintViolation', message: expect.stringContaining('idToken.idToken is longer than 36') });
    await expect(cp.call('StatusNotification', { timestamp: at, connectorStatus: 'Available', evseId: 999, connectorId: 1 }))
      .rejects.toMatchObject({ rpcErrorCode: 'PropertyConstraintViolation' });
    await expect(cp.call('FlyToTheMoon', {})).rejects.toMatchObject({ rpcErrorCode: 'NotImplemented' });
    // 1.6 actions are not 2.0.1 ones.
    await expect(cp.call('StartTransaction', { connectorId: 1, idTag: 'A', meterStart: 0, timestamp: at })).rejects.toMatchObject({ rpcErrorCode: 'NotImplemented' });
    // 2.0.1 actions this slice does not serve yet.
    await expect(cp.call('NotifyMonitoringReport', { requestId: 1, generatedAt: at, seqNo: 0 })).rejects.toMatchObject({ rpcErrorCode: 'NotImplemented' });
    expect(await cp.call('Heartbeat', {})).toHaveProperty('currentTime');
    expect((await t.api('GET', '/chargers')).body.find((c: { id: string }) => c.id === 'ST-BAD').online).toBe(true);

    const raw = await rawCharger(t.port, 'ST-RAW', { protocol: 'ocpp2.0.1' });
    raw.ws.send('not json at all');
    const err = await raw.next();
    expect(err[0]).toBe(4);
    expect(['RpcFrameworkError', 'FormatViolation']).toContain(err[2]);
    raw.ws.send(JSON.stringify([2, 'h1', 'Heartbeat', {}]));
    expect(await raw.next()).toEqual([3, 'h1', { currentTime: expect.any(String) }]);
    expect(raw.ws.readyState).toBe(WebSocket.OPEN);
    raw.ws.close();
  });

  it('takes identities of up to 48 characters, gives 1.6 to a charger offering both, refuses ocpp2.1', async () => {
    t = await apps.start();
    expect(await upgrade(t.port, 'S'.repeat(48), ['ocpp2.0.1'])).toEqual({ status: 101, protocol: 'ocpp2.0.1' });
    expect((await upgrade(t.port, 'S'.repeat(49), ['ocpp2.0.1'])).status).toBe(400);
    expect(await upgrade(t.port, 'BOTH1', ['ocpp2.0.1', 'ocpp1.6'])).toEqual({ status: 101, protocol: 'ocpp1.6' });
    expect((await upgrade(t.port, 'NEWER1', ['ocpp2.1'])).status).toBe(400);
    const ids = ((await t.api('GET', '/chargers')).body as Array<{ id: string; protocol: string | null }>).map((c) => [c.id, c.protocol]);
    expect(ids).toEqual([['BOTH1', 'ocpp1.6'], ['S'.repeat(48), 'ocpp2.0.1']]);
  });

  it('refuses a 1.6 command for a 2.0.1 station (and the reverse) and sends 2.0.1 commands to it', async () => {
    t = await apps.start();
    const cp = await station(t, 'ST-CMD');
    await boot201(cp);
    const cp16 = await t.chargePoint('CP16-CMD');
    await cp16.boot();
    const got: unknown[] = [];
    cp.handle('RequestStopTransaction', ({ params }) => { got.push(params); return { status: 'Accepted' }; });
    cp.handle('Reset', () => ({ status: 'Accepted' }));

    const start16 = await t.api('POST', '/chargers/ST-CMD/commands/RemoteStartTransaction', { body: { connectorId: 1, idTag: 'A' } });
    expect(start16.status).toBe(409);
    expect(start16.body.message).toBe('RemoteStartTransaction is an OCPP 1.6 command; ST-CMD speaks OCPP 2.0.1');
    const reverse = await t.api('POST', '/chargers/CP16-CMD/commands/RequestStopTransaction', { body: { transactionId: 'x' } });
    expect(reverse.status).toBe(409);
    expect(reverse.body.message).toBe('RequestStopTransaction is an OCPP 2.0.1 command; CP16-CMD speaks OCPP 1.6');

    const t0 = new Date().toISOString();
    await sendTx(cp, { eventType: 'Started', transactionId: 'remote-1', seqNo: 0, timestamp: t0, idTag: 'CARD', evseId: 1 });
    const stop = await t.api('POST', '/chargers/ST-CMD/commands/RequestStopTransaction', { body: { transactionId: 'remote-1' } });
    expect(stop.status, JSON.stringify(stop.body)).toBe(200);
    expect(stop.body).toEqual({ response: { status: 'Accepted' } });
    expect(got).toEqual([{ transactionId: 'remote-1' }]);
    // A 2.0.1 payload is checked against the 2.0.1 schema: 1.6's "Hard" is not a 2.0.1 reset type.
    const bad = await t.api('POST', '/chargers/ST-CMD/commands/Reset', { body: { type: 'Hard' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toMatchObject({ field: 'type', message: expect.stringContaining('Immediate') });
    expect((await t.api('POST', '/chargers/ST-CMD/commands/Reset', { body: { type: 'Immediate' } })).body).toEqual({ response: { status: 'Accepted' } });
    // A remote start is checked like a card at the reader; freeVend is off here, so nothing is sent.
    await t.restart({ ocpp: { freeVend: false } });
    const cp2 = await station(t, 'ST-CMD');
    await boot201(cp2);
    const start = await t.api('POST', '/chargers/ST-CMD/commands/RequestStartTransaction', { body: { idToken: { idToken: 'NOONE', type: 'ISO14443' }, remoteStartId: 7, evseId: 1 } });
    expect(start.status).toBe(409);
    expect(start.body.message).toMatch(/card NOONE is not accepted at ST-CMD \(Invalid\); RequestStartTransaction was not sent/);

    const list = (await t.api('GET', '/commands?protocol=ocpp2.0.1')).body as Array<{ action: string; example: unknown }>;
    expect(list.map((c) => c.action).sort()).toEqual([
      'CancelReservation', 'CertificateSigned', 'ChangeAvailability', 'ClearCache', 'ClearChargingProfile', 'DataTransfer', 'DeleteCertificate',
      'GetBaseReport', 'GetCompositeSchedule', 'GetInstalledCertificateIds', 'GetLocalListVersion', 'GetLog', 'GetVariables', 'InstallCertificate',
      'RequestStartTransaction', 'RequestStopTransaction', 'ReserveNow', 'Reset', 'SendLocalList', 'SetChargingProfile', 'SetVariables',
      'TriggerMessage', 'UnlockConnector', 'UpdateFirmware',
    ]);
    const { OcppServer } = await import('../../core/ocpp/server.js');
    for (const c of list) expect(() => OcppServer.validateCommand(c.action, c.example, 'ocpp2.0.1')).not.toThrow();
  });

  it('keeps plugins running on a 2.0.1 station: the users plugin reads its local list in 2.0.1 and nothing fails', async () => {
    t = await apps.start({ config: { plugins: { users: { localList: { enabled: true } }, diagnostics: {} } } });
    const cp = await station(t, 'ST-PLUG');
    const calls: string[] = [];
    cp.handle('GetVariables', ({ params }) => {
      calls.push('GetVariables');
      return { getVariableResult: params.getVariableData.map((d: { component: unknown; variable: unknown }) => ({ attributeStatus: 'UnknownVariable', component: d.component, variable: d.variable })) };
    });
    cp.handle('GetLocalListVersion', () => { calls.push('GetLocalListVersion'); return { versionNumber: 0 }; });
    for (const action of ['SendLocalList', 'GetConfiguration', 'TriggerMessage']) cp.handle(action, () => { calls.push(action); return {}; });
    await boot201(cp);
    await eventually(() => calls.includes('GetLocalListVersion'));
    await sleep(200);
    // No cards and an empty list on the station: nothing to send after the probe.
    expect(t.seen('command.sent').filter((e) => e.chargerId === 'ST-PLUG').map((e) => [e.action, e.errorKind, e.actor]))
      .toEqual([['GetVariables', undefined, 'plugin:users'], ['GetLocalListVersion', undefined, 'plugin:users']]);
    expect(calls).toEqual(['GetVariables', 'GetLocalListVersion']);
    expect(t.seen('plugin.failed')).toEqual([]);
    expect(await cp.call('Heartbeat', {})).toHaveProperty('currentTime');
    // A NotifyEvent fault reaches the diagnostics connector-fault check as a 1.6 fault would.
    const finding = t.waitFor('finding.raised', (f) => f.check === 'connector-fault' && f.chargerId === 'ST-PLUG');
    await cp.call('NotifyEvent', {
      generatedAt: new Date().toISOString(), seqNo: 0,
      eventData: [{
        eventId: 1, timestamp: new Date().toISOString(), trigger: 'Delta', actualValue: 'Faulted', techCode: 'E-42', techInfo: 'RCD tripped',
        eventNotificationType: 'HardWiredNotification', component: { name: 'Connector', evse: { id: 1, connectorId: 1 } }, variable: { name: 'AvailabilityState' },
      }],
    });
    expect(await finding).toMatchObject({ connectorId: 1, severity: expect.any(String) });
    expect(t.seen('connector.status').filter((e) => e.chargerId === 'ST-PLUG').pop())
      .toMatchObject({ status: 'Faulted', errorCode: 'OtherError', vendorErrorCode: 'E-42', info: 'RCD tripped' });
  });

  it('keeps the role rules for 2.0.1 commands and never shows a password a SetVariables carries', async () => {
    t = await apps.start({ config: { plugins: { users: { localList: { enabled: false } } } } });
    const cp = await station(t, 'ST-ROLE');
    await boot201(cp);
    const seen: unknown[] = [];
    cp.handle('SetVariables', ({ params }) => {
      seen.push(params);
      return { setVariableResult: params.setVariableData.map((d: { component: unknown; variable: unknown }) => ({ attributeStatus: 'Accepted', component: d.component, variable: d.variable })) };
    });
    await createUser(t, 'tech', 'technician', 'tech-pass-1234');
    const tech = await t.login('tech', 'tech-pass-1234');
    const set = (component: string, variable: string, attributeValue: string, token?: string) => t.api('POST', '/chargers/ST-ROLE/commands/SetVariables', {
      body: { setVariableData: [{ component: { name: component }, variable: { name: variable }, attributeValue }] }, ...(token ? { token } : {}),
    });
    const refused = await set('SecurityCtrlr', 'BasicAuthPassword', 'n3w-pa55word-xyz', tech);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe('changing SecurityCtrlr.BasicAuthPassword is for installers and admins: it is a security setting of the charger');
    expect((await set('AuthCtrlr', 'LocalPreAuthorize', 'true', tech)).status).toBe(403);
    expect((await set('OCPPCommCtrlr', 'HeartbeatInterval', '120', tech)).status).toBe(200);
    expect((await set('SecurityCtrlr', 'BasicAuthPassword', 'n3w-pa55word-xyz')).status).toBe(200);
    expect(seen).toHaveLength(2);
    // The charger got the password; the bus (every browser's event stream) and the audit log did not.
    const sent = t.seen('command.sent').filter((e) => e.action === 'SetVariables').pop()!;
    expect(JSON.stringify(sent.request)).not.toContain('n3w-pa55word-xyz');
    expect(sent.request).toMatchObject({ setVariableData: [{ attributeValue: '[redacted]' }] });
    const audit = await t.app.db('audit').where({ action: 'command.SetVariables' }).pluck('detail');
    expect(audit.join()).not.toContain('n3w-pa55word-xyz');
  });
});
