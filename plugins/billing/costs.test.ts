import { beforeAll, describe, expect, it } from 'vitest';
import { bootedCharger, eventually, type TestApp, type TestChargePoint, useApp } from '../../tests/kit/index.js';
import { costOf, createTariff, driver, runSession, startSession, withBilling } from './test-kit.js';

const BERLIN_EVENING = '2026-03-10'; // a Tuesday, CET (UTC+1)

describe('session costs over real OCPP', () => {
  let t: TestApp;
  const apps = useApp();
  let cp: TestChargePoint;
  let anna: { id: number; idTag: string };
  let defaultId: number;

  beforeAll(async () => {
    t = await apps.start(withBilling());
    cp = await bootedCharger(t, 'CP1');
    anna = await driver(t, 'anna');
    defaultId = (await createTariff(t, { name: 'Standard', pricePerKwh: 0.30, sessionFee: 1.00, vatPct: 19 })).id;
  });

  it('prices 12.345 kWh at 0.30 per kWh plus a 1.00 session fee at 4.70', async () => {
    const id = await runSession(cp, { idTag: anna.idTag, start: '2026-03-02T08:00:00Z', stop: '2026-03-02T09:00:00Z', meterStart: 1000, meterStop: 13_345 });
    expect(await costOf(t, id)).toEqual({ amount: '4.70', currency: 'EUR' });
    const detail = await t.api('GET', `/costs/${id}`);
    expect(detail.body).toMatchObject({ tariffId: defaultId, tariffVersion: 1, rule: 'default', estimate: false });
    expect(detail.body.breakdown).toMatchObject({ subtotal: '4.7035', amount: '4.70', vatAmount: '0.75', netAmount: '3.95', energyWh: 12_345 });
    expect(detail.body.breakdown.lines).toEqual([
      expect.objectContaining({ kind: 'energy', quantity: '12.345', price: '0.3', amount: '3.7035' }),
      expect.objectContaining({ kind: 'fee', amount: '1' }),
    ]);
  });

  it('splits energy at a time-of-use boundary by interpolating between the samples', async () => {
    const cpTou = await bootedCharger(t, 'CP-TOU');
    await createTariff(t, {
      name: 'Night rate', pricePerKwh: 0.40, chargerIds: ['CP-TOU'],
      timeOfUse: [{ from: '22:00', to: '06:00', pricePerKwh: 0.20 }],
    });
    // 21:00-23:00 local; the register reads 2 kWh at 21:30 and 5 kWh at 22:30, so 3.5 kWh before 22:00.
    const id = await runSession(cpTou, {
      idTag: anna.idTag, start: `${BERLIN_EVENING}T20:00:00Z`, stop: `${BERLIN_EVENING}T22:00:00Z`, meterStart: 0, meterStop: 6000,
      samples: [{ at: `${BERLIN_EVENING}T20:30:00Z`, wh: 2000 }, { at: `${BERLIN_EVENING}T21:30:00Z`, wh: 5000 }],
    });
    // 3.5 × 0.40 + 2.5 × 0.20 = 1.40 + 0.50
    expect(await costOf(t, id)).toEqual({ amount: '1.90', currency: 'EUR' });
    const lines = (await t.api('GET', `/costs/${id}`)).body.breakdown.lines;
    expect(lines.map((l: { quantity: string; window: number | null }) => [l.quantity, l.window])).toEqual([['3.5', null], ['2.5', 0]]);
  });

  it('prices a stopped session again when its readings arrive late, from a charger\'s queue after a reconnect', async () => {
    const cpQueued = await bootedCharger(t, 'CP-QUEUE');
    await createTariff(t, {
      name: 'Night rate (queue)', pricePerKwh: 0.40, chargerIds: ['CP-QUEUE'],
      timeOfUse: [{ from: '22:00', to: '06:00', pricePerKwh: 0.20 }],
    });
    const id = await runSession(cpQueued, { idTag: anna.idTag, start: `${BERLIN_EVENING}T20:00:00Z`, stop: `${BERLIN_EVENING}T22:00:00Z`, meterStart: 0, meterStop: 6000 });
    // Without readings the 6 kWh spread evenly over 21:00-23:00 local: 3 × 0.40 + 3 × 0.20.
    expect(await costOf(t, id)).toEqual({ amount: '1.80', currency: 'EUR' });
    await cpQueued.call('MeterValues', { connectorId: 1, transactionId: id, meterValue: [
      { timestamp: `${BERLIN_EVENING}T20:30:00Z`, sampledValue: [{ value: '2000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] },
    ] });
    await cpQueued.call('MeterValues', { connectorId: 1, transactionId: id, meterValue: [
      { timestamp: `${BERLIN_EVENING}T21:30:00Z`, sampledValue: [{ value: '5000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] },
    ] });
    // 3.5 kWh fell before 22:00 after all: 3.5 × 0.40 + 2.5 × 0.20.
    await eventually(async () => (await costOf(t, id)).amount === '1.90');
    expect((await t.api('GET', `/costs/${id}`)).body.breakdown.lines.map((l: { quantity: string }) => l.quantity)).toEqual(['3.5', '2.5']);
  });

  it('charges the idle fee only after the car stopped drawing power for longer than the grace period', async () => {
    const cpIdle = await bootedCharger(t, 'CP-IDLE');
    await createTariff(t, { name: 'Blocking fee', pricePerKwh: 0.30, pricePerMinute: 0.10, timeFeeMode: 'idleAfterGrace', graceMinutes: 30, chargerIds: ['CP-IDLE'] });
    const at = (hm: string) => `2026-03-03T${hm}:00Z`;
    // Charges 10:00-11:00 at 11 kW, then sits there until 12:30: 90 min idle, 30 free, 60 billed.
    const id = await runSession(cpIdle, {
      idTag: anna.idTag, start: at('10:00'), stop: at('12:30'), meterStart: 500, meterStop: 11_500,
      samples: [
        { at: at('10:00'), w: 11_000 }, { at: at('10:30'), wh: 6000, w: 11_000 }, { at: at('11:00'), wh: 11_500, w: 0 },
        { at: at('11:30'), wh: 11_500, w: 0 }, { at: at('12:00'), wh: 11_500, w: 0 },
      ],
    });
    // 11 kWh × 0.30 = 3.30 + 60 min × 0.10 = 6.00
    expect(await costOf(t, id)).toEqual({ amount: '9.30', currency: 'EUR' });
    // A session that leaves within the grace period pays no idle fee.
    const quick = await runSession(cpIdle, {
      idTag: anna.idTag, start: at('14:00'), stop: at('15:20'), meterStart: 11_500, meterStop: 22_500,
      samples: [{ at: at('14:00'), w: 11_000 }, { at: at('15:00'), wh: 22_500, w: 0 }],
    });
    expect(await costOf(t, quick)).toEqual({ amount: '3.30', currency: 'EUR' });
  });

  it('raises a small session to the minimum and caps a large one at the maximum', async () => {
    const [cpMin, cpMax] = await Promise.all([bootedCharger(t, 'CP-MIN'), bootedCharger(t, 'CP-MAX')]);
    await createTariff(t, { name: 'Minimum 2', pricePerKwh: 0.30, minimumAmount: 2, chargerIds: ['CP-MIN'] });
    await createTariff(t, { name: 'Maximum 5', pricePerKwh: 0.30, maximumAmount: 5, chargerIds: ['CP-MAX'] });
    const small = await runSession(cpMin, { idTag: anna.idTag, start: '2026-03-04T08:00:00Z', stop: '2026-03-04T08:20:00Z', meterStart: 0, meterStop: 1000 });
    const large = await runSession(cpMax, { idTag: anna.idTag, start: '2026-03-04T08:00:00Z', stop: '2026-03-04T12:00:00Z', meterStart: 0, meterStop: 30_000 });
    expect(await costOf(t, small)).toEqual({ amount: '2.00', currency: 'EUR' }); // 0.30 raised to 2.00
    expect(await costOf(t, large)).toEqual({ amount: '5.00', currency: 'EUR' }); // 9.00 capped at 5.00
    expect((await t.api('GET', `/costs/${large}`)).body.breakdown).toMatchObject({ subtotal: '9', cap: 'maximum' });
  });

  it('prices a StopTransaction that arrives hours late by the session\'s own timestamps', async () => {
    const cpLate = await bootedCharger(t, 'CP-LATE');
    await createTariff(t, { name: 'Per minute', pricePerKwh: 0.30, pricePerMinute: 0.05, chargerIds: ['CP-LATE'] });
    const startMs = t.clock.nowMs() - 3 * 3_600_000;
    const id = await startSession(cpLate, { idTag: anna.idTag, start: new Date(startMs).toISOString(), meterStart: 0 });
    // The charger was offline: the stop (at start + 60 min) reaches us 5 hours later by the server's clock.
    await t.clock.advance(5 * 3_600_000);
    await cpLate.call('StopTransaction', { transactionId: id, meterStop: 10_000, timestamp: new Date(startMs + 3_600_000).toISOString(), reason: 'Local' });
    // 10 kWh × 0.30 + 60 min × 0.05 = 3.00 + 3.00 (the wall clock would say 480 min: 27.00)
    expect(await costOf(t, id)).toEqual({ amount: '6.00', currency: 'EUR' });
  });

  it('keeps the price a session started with when the tariff is edited while it runs', async () => {
    const cpEdit = await bootedCharger(t, 'CP-EDIT');
    const tariff = await createTariff(t, { name: 'Edited', pricePerKwh: 0.30, chargerIds: ['CP-EDIT'] });
    const startMs = t.clock.nowMs();
    const id = await startSession(cpEdit, { idTag: anna.idTag, start: new Date(startMs).toISOString(), meterStart: 0 });
    await t.clock.advance(60_000);
    const edit = await t.api('PATCH', `/tariffs/${tariff.id}`, { body: { pricePerKwh: 0.50 } });
    expect(edit.status).toBe(200);
    expect(edit.body).toMatchObject({ pricePerKwh: 0.5, version: 2 });
    await cpEdit.call('StopTransaction', { transactionId: id, meterStop: 10_000, timestamp: new Date(startMs + 3_600_000).toISOString() });
    expect(await costOf(t, id)).toEqual({ amount: '3.00', currency: 'EUR' }); // 10 kWh at the old 0.30
    expect((await t.api('GET', `/costs/${id}`)).body).toMatchObject({ tariffVersion: 1 });

    // The next session gets the new price, and the old one's cost is not rewritten by it.
    await t.clock.advance(60_000);
    const next = await startSession(cpEdit, { idTag: anna.idTag, start: t.clock.iso(), meterStart: 10_000 });
    await cpEdit.call('StopTransaction', { transactionId: next, meterStop: 20_000, timestamp: new Date(t.clock.nowMs() + 1000).toISOString() });
    expect(await costOf(t, next)).toEqual({ amount: '5.00', currency: 'EUR' });
    expect(await costOf(t, id)).toEqual({ amount: '3.00', currency: 'EUR' });
    const versions = await t.api('GET', `/tariffs/${tariff.id}/versions`);
    expect(versions.body.map((v: { version: number; pricePerKwh: string }) => [v.version, v.pricePerKwh])).toEqual([[1, '0.3'], [2, '0.5']]);
  });

  it('shows a running session\'s cost so far as an estimate', async () => {
    const cpRun = await bootedCharger(t, 'CP-RUN');
    const startMs = t.clock.nowMs() - 600_000;
    const id = await startSession(cpRun, { idTag: anna.idTag, start: new Date(startMs).toISOString(), meterStart: 0 });
    await cpRun.call('MeterValues', { connectorId: 1, transactionId: id, meterValue: [{ timestamp: t.clock.iso(), sampledValue: [{ value: '2.5', unit: 'kWh' }] }] });
    const list = await t.api('GET', '/transactions?chargerId=CP-RUN');
    // 2.5 kWh × 0.30 + 1.00 fee (default tariff)
    expect(list.body[0].cost).toEqual({ amount: '1.75', currency: 'EUR', estimate: true });
  });

  it('prices a page of stopped and running sessions alike as it prices each one alone', async () => {
    const cp = await bootedCharger(t, 'CP-PAGE');
    // A card of its own: the one of the test before is still charging elsewhere.
    const page1 = await driver(t, 'paula');
    const startMs = t.clock.nowMs() - 3_600_000;
    const done = await startSession(cp, { idTag: page1.idTag, start: new Date(startMs).toISOString(), meterStart: 0 });
    await cp.call('StopTransaction', { transactionId: done, meterStop: 10_000, timestamp: new Date(startMs + 1_800_000).toISOString() });
    const running = await startSession(cp, { idTag: page1.idTag, start: new Date(startMs + 1_900_000).toISOString(), meterStart: 10_000 });
    await cp.call('MeterValues', { connectorId: 1, transactionId: running, meterValue: [{ timestamp: t.clock.iso(), sampledValue: [{ value: '12500', unit: 'Wh' }] }] });
    await costOf(t, done);
    const page = await t.api('GET', '/transactions?chargerId=CP-PAGE');
    const byId = new Map((page.body as Array<{ id: number; cost: unknown }>).map((x) => [x.id, x.cost]));
    // 10 kWh × 0.30 + 1.00 fee; the running one 2.5 kWh so far.
    expect(byId.get(done)).toEqual({ amount: '4.00', currency: 'EUR' });
    expect(byId.get(running)).toEqual({ amount: '1.75', currency: 'EUR', estimate: true });
    for (const id of [done, running]) expect((await t.api('GET', `/transactions/${id}`)).body.cost).toEqual(byId.get(id));
  });
});
