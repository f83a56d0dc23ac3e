import { beforeAll, describe, expect, it } from 'vitest';
import { createTariff, driver, startSession, withBilling } from '../../plugins/billing/test-kit.js';
import * as reservationsKit from '../../plugins/reservations/test-kit.js';
import { bootedCharger, type TestApp, type TestChargePoint, useApp } from '../kit/index.js';

const ENERGY = 'Energy.Active.Import.Register';

/** The running cost of an open session, as its driver and the operator see it. */
async function runningCost(t: TestApp, id: number): Promise<string> {
  const res = await t.api<{ estimate: boolean; breakdown: { amount: string } }>('GET', `/costs/${id}`);
  expect(res.status).toBe(200);
  return res.body.breakdown.amount;
}

describe('every id a charger sends is checked against that charger', () => {
  let t: TestApp;
  const apps = useApp();
  let victim: TestChargePoint;
  let attacker: TestChargePoint;
  let anna: { id: number; idTag: string };

  beforeAll(async () => {
    t = await apps.start(withBilling());
    victim = await bootedCharger(t, 'CP1');
    attacker = await bootedCharger(t, 'EVIL');
    anna = await driver(t, 'anna');
    await createTariff(t, { name: 'Standard', pricePerKwh: 0.20 });
  });

  it('does not store MeterValues naming another charger\'s transaction against it: the bill stays', async () => {
    const start = new Date(Date.now() - 60_000).toISOString();
    const txId = await startSession(victim, { idTag: anna.idTag, start, meterStart: 0 });
    await victim.call('MeterValues', { connectorId: 1, transactionId: txId, meterValue: [
      { timestamp: new Date().toISOString(), sampledValue: [{ value: '1000', measurand: ENERGY, unit: 'Wh' }] },
    ] });
    expect(await runningCost(t, txId)).toBe('0.20');

    await attacker.call('MeterValues', { connectorId: 1, transactionId: txId, meterValue: [
      { timestamp: new Date().toISOString(), sampledValue: [{ value: '1798000', measurand: ENERGY, unit: 'Wh' }] },
    ] });
    expect(await runningCost(t, txId)).toBe('0.20');
    const detail = await t.api<{ meterValues: Array<{ value: number }> }>('GET', `/transactions/${txId}`);
    expect(detail.body.meterValues.map((v) => v.value)).toEqual([1000]);
    // The reading is the attacker's own, kept without the foreign transaction, and the attempt is on record.
    const stored = await t.app.db('meter_values').where({ charger_id: 'EVIL' }).select('transaction_id', 'value');
    expect(stored).toEqual([{ transaction_id: null, value: 1798000 }]);
    const noted = await t.app.db('charger_messages').where({ charger_id: 'EVIL', action: 'MeterValues.foreignTransaction' });
    expect(noted).toHaveLength(1);
  });

  it('never counts an old reading another charger tagged with a session (readers join on the charger)', async () => {
    const txId = await startSession(victim, { idTag: anna.idTag, connectorId: 2, start: new Date(Date.now() - 60_000).toISOString(), meterStart: 0 });
    // A row as an older version stored it, before ids were checked at the edge.
    await t.app.db('meter_values').insert({
      charger_id: 'EVIL', connector_id: 2, transaction_id: txId, at: new Date().toISOString(), measurand: ENERGY,
      phase: '', location: '', context: 'Sample.Periodic', unit: 'Wh', value: 1_798_000,
    });
    expect(await runningCost(t, txId)).toBe('0.00');
    const detail = await t.api<{ meterValues: unknown[] }>('GET', `/transactions/${txId}`);
    expect(detail.body.meterValues).toEqual([]);
  });

  it('refuses connector ids beyond what any charger has, and names the field', async () => {
    await expect(attacker.call('StatusNotification', { connectorId: 100_000, errorCode: 'NoError', status: 'Available' }))
      .rejects.toMatchObject({ rpcErrorCode: 'PropertyConstraintViolation' });
    expect(await t.app.db('connectors').where({ charger_id: 'EVIL' }).where('connector_id', '>', 32)).toEqual([]);
    expect(await attacker.call('Heartbeat', {})).toHaveProperty('currentTime');
  });
});

describe('a reservation id a charger names must be its own, for that card', () => {
  let t: TestApp;
  const apps = useApp();

  it('does not let another card\'s session on the next connector use up a reservation', async () => {
    t = await apps.start({ config: { plugins: { users: {}, reservations: {} } } });
    const cp = await reservationsKit.charger(t, 'CP1');
    reservationsKit.withReservationProfile(cp);
    const ann = await reservationsKit.driver(t, 'ann', 'ANN-1');
    await reservationsKit.driver(t, 'bob', 'BOB-1');
    await cp.call('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: 'Available' });
    const made = await t.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP1', connectorId: 1 } });
    expect(made.status).toBe(201);
    // Bob charges on connector 2 (free, so Accepted) and his charger names Ann's reservation.
    const tx = await reservationsKit.startTx(cp, 'BOB-1', 2, { reservationId: made.body.id });
    expect(tx.idTagInfo.status).toBe('Accepted');
    await new Promise((r) => setTimeout(r, 300));
    const after = await t.api('GET', `/reservations/${made.body.id}`, { token: ann.token });
    expect(after.body.state).toBe('active');
  });
});
