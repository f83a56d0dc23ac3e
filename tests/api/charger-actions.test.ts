import { describe, expect, it } from 'vitest';
import { boot201, sendTx, station } from '../ocpp/v201-kit.js';
import { createUser, eventually, type TestApp, useApp } from '../kit/index.js';

let t: TestApp;
const apps = useApp();
const now = () => new Date().toISOString();

const act = (id: string, action: string, body: unknown, token?: string) =>
  t.api('POST', `/chargers/${id}/actions/${action}`, { body, ...(token ? { token } : {}) });

async function tokenOf(username: string, role: string): Promise<string> {
  await createUser(t, username, role, `${username}-password`);
  return t.login(username, `${username}-password`);
}

describe('charger actions: reset, unlock, start and stop by what they do', () => {
  it('sends each action in the charger\'s own version and answers it the same way for both', async () => {
    t = await apps.start();
    const got: Array<[string, string, unknown]> = [];
    const old = await t.chargePoint('A16');
    await old.boot();
    const modern = await station(t, 'A201');
    await boot201(modern);
    for (const cp of [old, modern]) {
      for (const action of ['Reset', 'UnlockConnector', 'RemoteStartTransaction', 'RequestStartTransaction', 'RemoteStopTransaction', 'RequestStopTransaction']) {
        cp.handle(action, ({ params }) => { got.push([cp.id, action, params]); return { status: action === 'UnlockConnector' ? 'Unlocked' : 'Accepted' }; });
      }
    }
    const { transactionId: s16 } = await old.call('StartTransaction', { connectorId: 1, idTag: 'CARD-1', meterStart: 0, timestamp: now() }) as { transactionId: number };
    const started = t.waitFor('session.started', (e) => e.chargerId === 'A201');
    await sendTx(modern, { eventType: 'Started', transactionId: 'tx-201-a', seqNo: 0, timestamp: now(), idTag: 'CARD-2', evseId: 1 });
    const s201 = (await started).transactionId;

    for (const [id, session] of [['A16', s16], ['A201', s201]] as const) {
      expect((await act(id, 'reset', { hard: true })).body).toEqual({ accepted: true, status: 'Accepted' });
      expect((await act(id, 'unlock', { connectorId: 2 })).body).toEqual({ unlocked: true, status: 'Unlocked' });
      expect((await act(id, 'start', { connectorId: 2, idTag: 'CARD-3' })).body).toEqual({ accepted: true, status: 'Accepted' });
      expect((await act(id, 'stop', { sessionId: session })).body).toEqual({ accepted: true, status: 'Accepted' });
    }
    expect(got).toEqual([
      ['A16', 'Reset', { type: 'Hard' }], ['A16', 'UnlockConnector', { connectorId: 2 }],
      ['A16', 'RemoteStartTransaction', { connectorId: 2, idTag: 'CARD-3' }], ['A16', 'RemoteStopTransaction', { transactionId: s16 }],
      ['A201', 'Reset', { type: 'Immediate' }], ['A201', 'UnlockConnector', { evseId: 2, connectorId: 1 }],
      ['A201', 'RequestStartTransaction', { idToken: { idToken: 'CARD-3', type: 'ISO14443' }, remoteStartId: expect.any(Number), evseId: 2 }],
      ['A201', 'RequestStopTransaction', { transactionId: 'tx-201-a' }],
    ]);
    // Audited like the raw command route: the operator, the charger and the OCPP action that went out.
    const audit = await t.api('GET', '/audit?action=command.RequestStopTransaction');
    expect(audit.body[0]).toMatchObject({ actor: 'admin', target: 'A201', detail: { request: { transactionId: 'tx-201-a' }, response: { status: 'Accepted' } } });
  });

  it('lets technicians act as on the raw command route, and refuses viewers and drivers', async () => {
    t = await apps.start({ config: { plugins: { users: {} } } });
    const cp = await t.chargePoint('R1');
    await cp.boot();
    cp.handle('UnlockConnector', () => ({ status: 'UnlockFailed' }));
    const technician = await tokenOf('tess', 'technician');
    const res = await act('R1', 'unlock', { connectorId: 1 }, technician);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ unlocked: false, status: 'UnlockFailed' });
    expect((await t.api('GET', '/audit?action=command.UnlockConnector')).body[0]).toMatchObject({ actor: 'tess', target: 'R1' });
    for (const role of ['viewer', 'driver']) {
      expect((await act('R1', 'unlock', { connectorId: 1 }, await tokenOf(`${role}1`, role))).status, role).toBe(403);
    }
  });

  it('answers 400 naming the field, 404 for an unknown charger or action, and refuses another charger\'s session', async () => {
    t = await apps.start();
    const a = await t.chargePoint('V1');
    await a.boot();
    const b = await t.chargePoint('V2');
    await b.boot();
    let stops = 0;
    a.handle('RemoteStopTransaction', () => { stops++; return { status: 'Accepted' }; });
    const { transactionId: ofB } = await b.call('StartTransaction', { connectorId: 1, idTag: 'CARD-1', meterStart: 0, timestamp: now() }) as { transactionId: number };

    const missing = await act('V1', 'unlock', {});
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([expect.objectContaining({ field: 'connectorId' })]);
    expect((await act('V1', 'start', { connectorId: 1 })).body.errors).toEqual([expect.objectContaining({ field: 'idTag' })]);
    expect((await act('V1', 'reset', { hard: 'yes' })).body.errors).toEqual([expect.objectContaining({ field: 'hard' })]);
    // Longer than 1.6 allows: the charger's own schema names the field.
    const long = await act('V1', 'start', { connectorId: 1, idTag: 'X'.repeat(25) });
    expect(long.status).toBe(400);
    expect(long.body.errors).toEqual([expect.objectContaining({ field: 'idTag' })]);
    const foreign = await act('V1', 'stop', { sessionId: ofB });
    expect(foreign.status).toBe(400);
    expect(foreign.body.errors).toEqual([{ field: 'sessionId', message: `session ${ofB} is not a running session of V1` }]);
    expect(stops).toBe(0);

    expect((await act('NOPE', 'reset', {})).status).toBe(404);
    expect((await act('V1', 'explode', {})).status).toBe(404);
  });

  it('answers 409 offline or for a card the site refuses, 502 for a CALLERROR and 504 without an answer', async () => {
    t = await apps.start({ config: { ocpp: { callTimeout: '300ms', freeVend: false } } });
    const cp = await station(t, 'E1');
    await boot201(cp);
    cp.handle('Reset', () => new Promise(() => undefined));
    const slow = await act('E1', 'reset', {});
    expect(slow.status).toBe(504);
    expect(slow.body.message).toMatch(/did not answer/);
    // This station has no UnlockConnector handler: ocpp-rpc answers NotImplemented.
    const err = await act('E1', 'unlock', { connectorId: 1 });
    expect(err.status).toBe(502);
    expect(err.body.message).toMatch(/NotImplemented/);
    const refused = await act('E1', 'start', { connectorId: 1, idTag: 'NOONE' });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/^card NOONE is not accepted at E1 \(Invalid\); RequestStartTransaction was not sent/);
    const gone = await station(t, 'E2');
    await boot201(gone);
    await gone.close({ code: 1000 });
    await eventually(() => !t.app.core.chargers.isOnline('E2'));
    const offline = await act('E2', 'reset', {});
    expect(offline.status).toBe(409);
    expect(offline.body.message).toMatch(/offline/);
  });
});
