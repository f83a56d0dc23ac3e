import ocppRpc from 'ocpp-rpc';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../kit/index.js';

const { RPCClient } = ocppRpc;

let t: TestApp;
const apps = useApp();

/** A real OCPP 2.1 charge point: asks for ocpp2.1 only (this server speaks 1.6 and 2.0.1). */
async function connect21(port: number, id: string): Promise<unknown> {
  const client = new RPCClient({
    endpoint: `ws://127.0.0.1:${port}/ocpp`, identity: id, protocols: ['ocpp2.1'], reconnect: false,
  } as ConstructorParameters<typeof RPCClient>[0]);
  try {
    await client.connect();
    await client.close({ code: 1000, force: true });
    return 'connected';
  } catch (err) {
    return err;
  }
}

/** The HTTP status of an upgrade offering these subprotocols. */
function upgrade(port: number, id: string, protocols: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/${id}`, protocols);
    ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); res.resume(); ws.terminate(); });
    ws.once('open', () => { resolve(101); ws.close(); });
    ws.once('error', (err) => { if (!String(err).includes('Unexpected server response')) reject(err); });
  });
}

describe('a charger asking only for a subprotocol this server does not speak', () => {
  it('is refused at the upgrade and leaves no pending charger behind', async () => {
    t = await apps.start({ config: { ocpp: { unknownChargers: 'pending' } } });
    expect(await connect21(t.port, 'GHOST1')).toBeInstanceOf(Error);
    expect(await upgrade(t.port, 'GHOST2', ['ocpp1.5', 'ocpp2.1'])).toBe(400);
    expect((await t.api('GET', '/chargers')).body).toEqual([]);
    expect(Number((await t.app.db('chargers').count({ n: '*' }).first())?.n)).toBe(0);
    expect(t.seen('charger.registered')).toEqual([]);
    expect(t.seen('chargers.refused')[0]).toMatchObject({ ids: ['GHOST1'], reason: expect.stringMatching(/^wrong OCPP version/) });
  });

  it('shows "wrong OCPP version" on a known charger and logs it once per change of what it offers', async () => {
    t = await apps.start({ config: { log: { level: 'info' } } });
    const first = await t.chargePoint('KNOWN1');
    await first.boot();
    // Its firmware was updated to one that speaks 2.1 only.
    await first.close({ code: 1000 });
    for (let i = 0; i < 3; i++) expect(await connect21(t.port, 'KNOWN1')).toBeInstanceOf(Error);
    expect(await upgrade(t.port, 'KNOWN1', ['ocpp1.5'])).toBe(400);
    const detail = await t.api('GET', '/chargers/KNOWN1');
    expect(detail.body.lastRefusal).toMatchObject({ reason: 'wrong OCPP version: it offered "ocpp1.5", this server speaks ocpp1.6, ocpp2.0.1' });
    const lines = t.logs.filter((l) => l.includes('wrong OCPP version'));
    // Once for ocpp2.1 (three tries), once more when what it offers changed.
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/refused charger KNOWN1 from \S+: wrong OCPP version: it offered "ocpp2\.1", this server speaks ocpp1\.6, ocpp2\.0\.1$/);
    expect(t.seen('charger.rejected').filter((e) => e.chargerId === 'KNOWN1')).toHaveLength(2);
    // Speaking 1.6 again, it gets in as before.
    expect((await (await t.chargePoint('KNOWN1')).boot()).status).toBe('Accepted');
  });
});
