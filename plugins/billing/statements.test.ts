import { beforeAll, describe, expect, it } from 'vitest';
import { bootedCharger, type TestApp, useApp } from '../../tests/kit/index.js';
import { costOf, createTariff, driver, DRIVER_PASSWORD, readCsv, runSession, withBilling } from './test-kit.js';

const cents = (amount: string) => Math.round(Number(amount) * 100);

describe('statements and exports', () => {
  let t: TestApp;
  const apps = useApp();
  let bob: { id: number; idTag: string };
  let carol: { id: number; idTag: string };
  let carolTx: number;
  const marchOfBob: number[] = [];

  beforeAll(async () => {
    t = await apps.start(withBilling());
    const cp = await bootedCharger(t, 'CP-S');
    [bob, carol] = [await driver(t, 'bob'), await driver(t, 'carol')];
    await createTariff(t, { name: 'Standard', pricePerKwh: 0.30, sessionFee: 1.00, vatPct: 19 });
    let meter = 0;
    const session = async (idTag: string, start: string, kWh: number) => {
      const wh = Math.round(kWh * 1000);
      const id = await runSession(cp, { idTag, start, stop: new Date(Date.parse(start) + 3_600_000).toISOString(), meterStart: meter, meterStop: meter + wh });
      meter += wh;
      await costOf(t, id);
      return id;
    };
    // 00:30 on 1 March in Berlin: March, though it is still February in UTC.
    marchOfBob.push(await session(bob.idTag, '2026-02-28T23:30:00Z', 2)); //  1.60, VAT 0.26
    marchOfBob.push(await session(bob.idTag, '2026-03-05T08:00:00Z', 10)); //  4.00, VAT 0.64
    marchOfBob.push(await session(bob.idTag, '2026-03-12T08:00:00Z', 12.345)); // 4.70, VAT 0.75
    marchOfBob.push(await session(bob.idTag, '2026-03-20T08:00:00Z', 7.777)); // 3.33, VAT 0.53
    await session(bob.idTag, '2026-03-31T22:30:00Z', 1); // 00:30 on 1 April (CEST): April
    carolTx = await session(carol.idTag, '2026-03-15T08:00:00Z', 5); // 2.50, VAT 0.40
  });

  it('totals a month to exactly the sum of its sessions', async () => {
    const res = await t.api('GET', `/statements?userId=${bob.id}&period=2026-03`);
    expect(res.status).toBe(200);
    const st = res.body;
    expect(st).toMatchObject({ userId: bob.id, period: '2026-03', currency: 'EUR', energyWh: 32_122, amount: '13.63', vatAmount: '2.18', netAmount: '11.45' });
    expect(st.sessions.map((s: { id: number }) => s.id)).toEqual(marchOfBob);
    expect(st.sessions.map((s: { cost: { amount: string } }) => s.cost.amount)).toEqual(['1.60', '4.00', '4.70', '3.33']);
    const sum = (key: (s: { cost: { amount: string }; vatAmount: string }) => string) =>
      st.sessions.reduce((a: number, s: { cost: { amount: string }; vatAmount: string }) => a + cents(key(s)), 0);
    expect(sum((s) => s.cost.amount)).toBe(cents(st.amount));
    expect(sum((s) => s.vatAmount)).toBe(cents(st.vatAmount));
    expect(st.sessions.reduce((a: number, s: { energyWh: number }) => a + s.energyWh, 0)).toBe(st.energyWh);
  });

  it('puts a session in the month it started in, in the site time zone', async () => {
    const april = await t.api('GET', `/statements?userId=${bob.id}&period=2026-04`);
    expect(april.body).toMatchObject({ amount: '1.30', energyWh: 1000, from: '2026-03-31T22:00:00.000Z' });
    expect(april.body.sessions).toHaveLength(1);
  });

  it('gives a CSV that parses back to the same numbers', async () => {
    const json = (await t.api('GET', `/statements?userId=${bob.id}&period=2026-03`)).body;
    const res = await t.api('GET', `/statements?userId=${bob.id}&period=2026-03&format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = readCsv(res.body as string);
    const sessions = rows.filter((r) => r.type === 'session');
    expect(sessions.map((r) => Number(r.transactionId))).toEqual(json.sessions.map((s: { id: number }) => s.id));
    expect(sessions.map((r) => r.amount)).toEqual(json.sessions.map((s: { cost: { amount: string } }) => s.cost.amount));
    expect(sessions.map((r) => Number(r.energyWh))).toEqual(json.sessions.map((s: { energyWh: number }) => s.energyWh));
    expect(sessions[0]).toMatchObject({
      startedAt: '2026-03-01T00:30:00+01:00', tariff: 'Standard v1', currency: 'EUR', vatAmount: '0.26', calculation: '2 kWh × 0.3 = 0.6 + fee 1 → 1.60',
    });
    const total = rows.filter((r) => r.type === 'total');
    expect(total).toEqual([expect.objectContaining({ energyWh: '32122', currency: 'EUR', amount: '13.63', vatAmount: '2.18', netAmount: '11.45' })]);
    expect(sessions.reduce((a, r) => a + cents(r.amount!), 0)).toBe(cents(total[0]!.amount!));
  });

  it('gives a printable HTML statement', async () => {
    const res = await t.api('GET', `/statements?userId=${bob.id}&period=2026-03&format=html`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = res.body as string;
    expect(html).toContain('@media print');
    expect(html).toContain('13.63 EUR');
    expect(html).toContain('bob');
    expect(html.match(/class="has-calc"/g)).toHaveLength(4);
    expect(html).toContain('12.345 kWh × 0.3 = 3.7035 + fee 1 → 4.70');
  });

  it('lets a driver read their own statement and nobody else\'s', async () => {
    const token = await t.login('bob', DRIVER_PASSWORD);
    const own = await t.api('GET', '/statements?period=2026-03', { token });
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ userId: bob.id, amount: '13.63' });
    expect((await t.api('GET', `/statements?userId=${bob.id}&period=2026-03&format=csv`, { token })).status).toBe(200);
    const other = await t.api('GET', `/statements?userId=${carol.id}&period=2026-03`, { token });
    expect(other.status).toBe(403);
    expect((await t.api('GET', `/costs/${carolTx}`, { token })).status).toBe(404);
    expect((await t.api('GET', '/statements/export?period=2026-03', { token })).status).toBe(403);
    // Download links cannot send headers: the token may come as ?token=.
    const link = await t.api('GET', `/statements?period=2026-03&format=html&token=${token}`, { token: null });
    expect(link.status).toBe(200);
  });

  it('exports every session of the month with its user, per-user totals and the site total', async () => {
    const res = await t.api('GET', '/statements/export?period=2026-03');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain('sessions-2026-03.csv');
    const rows = readCsv(res.body as string);
    expect(rows.filter((r) => r.type === 'session').map((r) => [r.username, r.amount]))
      .toEqual([['bob', '1.60'], ['bob', '4.00'], ['bob', '4.70'], ['bob', '3.33'], ['carol', '2.50']]);
    expect(rows.filter((r) => r.type === 'user-total').map((r) => [r.userId, r.amount, r.vatAmount]))
      .toEqual([[String(bob.id), '13.63', '2.18'], [String(carol.id), '2.50', '0.40']]);
    expect(rows.filter((r) => r.type === 'total').map((r) => [r.amount, r.energyWh])).toEqual([['16.13', '37122']]);
  });

  it('reads the short price columns for an export, and the priced lines of a cost stored before they existed', async () => {
    const row = await t.app.db('billing_costs').where({ transaction_id: carolTx }).first() as Record<string, unknown>;
    expect(row).toMatchObject({ tariff_name: 'Standard', tariff_version: 1, net_amount: '2.10', calculation: '5 kWh × 0.3 = 1.5 + fee 1 → 2.50' });
    const before = (await t.api('GET', '/statements/export?period=2026-03')).body as string;
    // As a cost stored by an earlier version reads: its JSON only.
    const columns = ['transaction_id', 'tariff_name', 'tariff_version', 'rule', 'net_amount', 'calculation'];
    const saved = await t.app.db('billing_costs').select(columns) as Array<Record<string, unknown>>;
    await t.app.db('billing_costs').update({ tariff_name: null, tariff_version: null, rule: null, net_amount: null, calculation: null });
    expect((await t.api('GET', '/statements/export?period=2026-03')).body).toBe(before);
    expect(readCsv(before).find((r) => r.transactionId === String(carolTx))).toMatchObject({ tariff: 'Standard v1', netAmount: '2.10', calculation: '5 kWh × 0.3 = 1.5 + fee 1 → 2.50' });
    for (const r of saved) await t.app.db('billing_costs').where({ transaction_id: r.transaction_id }).update(r);
  });
});
