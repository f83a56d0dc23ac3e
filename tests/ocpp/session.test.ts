import { describe, expect, it } from 'vitest';
import { eventually, type TestApp, useApp } from '../kit/index.js';

let t: TestApp;
const apps = useApp();

describe('a charging session over real OCPP', () => {
  it('stores boot, status, a session with meter values and its energy', async () => {
    t = await apps.start();
    const [a, b, c] = await Promise.all([t.chargePoint('CP-A'), t.chargePoint('CP-B'), t.chargePoint('CP-C')]);
    for (const cp of [a!, b!, c!]) expect((await cp.boot()).status).toBe('Accepted');
    await a!.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
    const start = await a!.call('StartTransaction', { connectorId: 1, idTag: 'TAG1', meterStart: 1000, timestamp: new Date().toISOString() }) as { transactionId: number; idTagInfo: { status: string } };
    expect(start.idTagInfo.status).toBe('Accepted');
    await a!.call('MeterValues', {
      connectorId: 1, transactionId: start.transactionId,
      meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [
        { value: '1.5', unit: 'kWh', measurand: 'Energy.Active.Import.Register' },
        { value: '7200', unit: 'W', measurand: 'Power.Active.Import' },
      ] }],
    });
    await a!.call('StopTransaction', { transactionId: start.transactionId, meterStop: 2500, timestamp: new Date().toISOString(), reason: 'EVDisconnected' });

    const list = await t.api('GET', '/transactions?chargerId=CP-A');
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(1);
    expect(list.body[0]).toMatchObject({ chargerId: 'CP-A', connectorId: 1, idTag: 'TAG1', meterStartWh: 1000, meterStopWh: 2500, energyWh: 1500, stopReason: 'EVDisconnected', cost: null });
    const detail = await t.api('GET', `/transactions/${start.transactionId}`);
    expect(detail.body.meterValues).toEqual(expect.arrayContaining([
      expect.objectContaining({ measurand: 'Energy.Active.Import.Register', unit: 'Wh', value: 1500 }),
      expect.objectContaining({ measurand: 'Power.Active.Import', unit: 'W', value: 7200 }),
    ]));
    const chargers = await t.api('GET', '/chargers');
    expect(chargers.body.map((x: { id: string }) => x.id)).toEqual(['CP-A', 'CP-B', 'CP-C']);
    const cpA = chargers.body.find((x: { id: string }) => x.id === 'CP-A');
    expect(cpA).toMatchObject({ online: true, approved: true, vendor: 'TestVendor', model: 'TestModel', firmwareVersion: '1.0.0' });
    expect(cpA.connectors).toEqual([expect.objectContaining({ connectorId: 1, status: 'Preparing', errorCode: 'NoError' })]);
    await b!.close({ code: 1000 });
    await eventually(async () => (await t.api('GET', '/chargers')).body.find((x: { id: string }) => x.id === 'CP-B')?.online === false);
  });
});
