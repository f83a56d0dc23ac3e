import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../kit/index.js';

let t: TestApp;
const apps = useApp();

const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();

describe('a charger that forgot its open session', () => {
  it('closes the old session as superseded at its last reading, records and reports it, and frees the card', async () => {
    t = await apps.start({ config: { plugins: { users: {}, diagnostics: {} } } });
    expect((await t.api('POST', '/tags', { body: { idTag: 'CARD-X' } })).status).toBe(201);
    expect((await t.api('POST', '/tags', { body: { idTag: 'CARD-Y' } })).status).toBe(201);
    let a = await t.chargePoint('LOST-A');
    await a.boot();
    const b = await t.chargePoint('LOST-B');
    await b.boot();

    const first = await a.call('StartTransaction', { connectorId: 1, idTag: 'CARD-X', meterStart: 1000, timestamp: at(30) }) as { transactionId: number };
    await a.call('MeterValues', {
      connectorId: 1, transactionId: first.transactionId,
      meterValue: [{ timestamp: at(20), sampledValue: [{ value: '4.5', measurand: 'Energy.Active.Import.Register', unit: 'kWh' }] }],
    });
    // A power cut: the charger comes back without its session and never sends StopTransaction.
    await a.close({ code: 1000 });
    a = await t.chargePoint('LOST-A');
    await a.boot();
    const busy = await b.call('Authorize', { idTag: 'CARD-X' }) as { idTagInfo: { status: string } };
    expect(busy.idTagInfo.status).toBe('ConcurrentTx');

    const superseded = t.waitFor('session.superseded');
    const second = await a.call('StartTransaction', { connectorId: 1, idTag: 'CARD-Y', meterStart: 4600, timestamp: at(1) }) as { transactionId: number; idTagInfo: { status: string } };
    expect(second.idTagInfo.status).toBe('Accepted');
    expect(await superseded).toMatchObject({ chargerId: 'LOST-A', connectorId: 1, transactionId: first.transactionId, byTransactionId: second.transactionId, meterStopWh: 4500 });

    const txs = (await t.api('GET', '/transactions?chargerId=LOST-A')).body as Array<Record<string, unknown>>;
    const old = txs.find((x) => x.id === first.transactionId)!;
    expect(old).toMatchObject({ stopReason: 'Superseded', meterStartWh: 1000, meterStopWh: 4500, energyWh: 3500 });
    expect(Math.abs(Date.parse(old.stoppedAt as string) - Date.now())).toBeLessThan(10_000);
    expect(txs.find((x) => x.id === second.transactionId)).toMatchObject({ stoppedAt: null });
    expect(t.seen('session.stopped')).toEqual([expect.objectContaining({ transactionId: first.transactionId, reason: 'Superseded', energyWh: 3500 })]);

    const audit = (await t.api('GET', '/audit?action=session.superseded')).body;
    expect(audit[0]).toMatchObject({ actor: 'charger:LOST-A', target: 'LOST-A', detail: expect.objectContaining({ transactionId: first.transactionId, meterStopWh: 4500 }) });
    const [finding] = (await t.api('GET', '/diagnostics/findings?check=superseded-session&state=active')).body;
    expect(finding).toMatchObject({ chargerId: 'LOST-A', connectorId: 1, severity: 'warning' });
    expect(finding.message).toMatch(new RegExp(`session ${first.transactionId} was closed as superseded at its last energy reading \\(4500 Wh`));

    // The card is free again elsewhere.
    const free = await b.call('Authorize', { idTag: 'CARD-X' }) as { idTagInfo: { status: string } };
    expect(free.idTagInfo.status).toBe('Accepted');

    // A session that ends normally there clears the finding.
    await a.call('StopTransaction', { transactionId: second.transactionId, meterStop: 6000, timestamp: at(0), reason: 'Local' });
    await t.app.bus.idle();
    expect((await t.api('GET', '/diagnostics/findings?check=superseded-session&state=active')).body).toEqual([]);
  });

  it('closes a session without readings at its start reading, and leaves other connectors alone', async () => {
    t = await apps.start();
    const cp = await t.chargePoint('LOST-C');
    await cp.boot();
    const one = await cp.call('StartTransaction', { connectorId: 1, idTag: 'T1', meterStart: 700, timestamp: at(10) }) as { transactionId: number };
    const two = await cp.call('StartTransaction', { connectorId: 2, idTag: 'T2', meterStart: 50, timestamp: at(9) }) as { transactionId: number };
    await cp.call('StartTransaction', { connectorId: 1, idTag: 'T3', meterStart: 900, timestamp: at(1) });
    const txs = (await t.api('GET', '/transactions?chargerId=LOST-C')).body as Array<Record<string, unknown>>;
    expect(txs.find((x) => x.id === one.transactionId)).toMatchObject({ stopReason: 'Superseded', meterStopWh: 700, energyWh: 0 });
    expect(txs.find((x) => x.id === two.transactionId)).toMatchObject({ stoppedAt: null });
  });
});
