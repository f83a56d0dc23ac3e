import ocppRpc from 'ocpp-rpc';
import { describe, expect, it } from 'vitest';
import { useApp } from '../kit/index.js';

const { RPCError } = ocppRpc;

// Text with a NUL character and ids beyond 32 bits are what a schema allows and a database does not:
// PostgreSQL refuses both, SQLite stores what nothing matches. Each is dealt with at the edge.
describe('NUL characters and out-of-range ids from the LAN', () => {
  const apps = useApp();

  it('stores a charger\'s NUL as U+FFFD and refuses a 1e308 transaction id by name, staying connected', async () => {
    const t = await apps.start();
    const cp = await t.chargePoint('NUL1', { strict: false });
    expect((await cp.boot({ chargePointVendor: 'Ven\u0000dor' })).status).toBe('Accepted');
    await t.api('POST', '/chargers/NUL1/approve');
    expect((await t.api('GET', '/chargers/NUL1')).body.vendor).toBe('Ven\uFFFDdor');

    const err = await cp.call('StopTransaction', { transactionId: 1e308, meterStop: 10, timestamp: new Date().toISOString() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RPCError);
    expect(err).toMatchObject({ rpcErrorCode: 'PropertyConstraintViolation', message: 'transactionId is outside the 32-bit range' });
    const meter = await cp.call('MeterValues', { connectorId: 1, transactionId: -(2 ** 40), meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: '1' }] }] }).catch((e: unknown) => e);
    expect(meter).toMatchObject({ rpcErrorCode: 'PropertyConstraintViolation' });
    expect(await cp.call('Heartbeat', {})).toHaveProperty('currentTime');
    expect(t.logs.filter((l) => l.includes('ERROR'))).toEqual([]);
  });

  it('answers an API request with a NUL in a body field or the query 400, naming it, and stores nothing', async () => {
    const t = await apps.start({ config: { plugins: { users: {} } } });
    const body = await t.api('POST', '/users', { body: { username: 'eve', role: 'driver', name: 'Eve\u0000Admin' } });
    expect(body.status).toBe(400);
    expect(body.body.errors).toEqual([{ field: 'name', message: 'contains a NUL character' }]);
    const query = await t.api('GET', '/transactions?idTag=A%00B');
    expect(query.status).toBe(400);
    expect(query.body.errors).toEqual([{ field: 'idTag', message: 'contains a NUL character' }]);
    expect((await t.api('GET', '/users')).body.map((u: { username: string }) => u.username)).toEqual(['admin']);
  });
});
