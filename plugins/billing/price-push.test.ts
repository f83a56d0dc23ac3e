import { describe, expect, it } from 'vitest';
import { bootedCharger, eventually, type TestApp, useApp } from '../../tests/kit/index.js';
import { boot201, station } from '../../tests/ocpp/v201-kit.js';
import { createTariff, driver, withBilling } from './test-kit.js';

let t: TestApp;
const apps = useApp();

describe('price shown on the charger', () => {
  it('sends the price text by DataTransfer when an accepted card is presented', async () => {
    t = await apps.start(withBilling({ currency: 'EUR', priceDataTransfer: { vendorId: 'com.example.display' } }));
    const cp = await bootedCharger(t, 'CP-DT');
    const received: Array<{ vendorId: string; messageId: string; data: string }> = [];
    cp.handle('DataTransfer', ({ params }) => { received.push(params); return { status: 'Accepted' }; });
    const ann = await driver(t, 'ann');
    await createTariff(t, { name: 'Standard', pricePerKwh: 0.35, sessionFee: 1 });
    expect(((await cp.call('Authorize', { idTag: 'UNKNOWN-1' })) as { idTagInfo: { status: string } }).idTagInfo.status).toBe('Invalid');
    await cp.call('Authorize', { idTag: ann.idTag });
    await eventually(() => received.length > 0);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ vendorId: 'com.example.display', messageId: 'Price' });
    expect(JSON.parse(received[0]!.data)).toEqual({ idTag: ann.idTag, text: '0.35 €/kWh, 1.00 € per session' });
  });

  it('sends the same price text to a 2.0.1 station, still as a string, when its driver\'s card is accepted', async () => {
    t = await apps.start(withBilling({ currency: 'EUR', priceDataTransfer: { vendorId: 'com.example.display', messageId: 'Tariff' } }));
    const cs = await station(t, 'CS-DT');
    expect((await boot201(cs)).status).toBe('Accepted');
    const received: unknown[] = [];
    cs.handle('DataTransfer', ({ params }) => { received.push(params); return { status: 'Accepted' }; });
    const ann = await driver(t, 'ann');
    await createTariff(t, { name: 'Standard', pricePerKwh: 0.35, sessionFee: 1 });
    await cs.call('Authorize', { idToken: { idToken: 'UNKNOWN-1', type: 'ISO14443' } });
    await cs.call('Authorize', { idToken: { idToken: ann.idTag, type: 'ISO14443' } });
    await eventually(() => received.length > 0);
    expect(received).toHaveLength(1);
    const [sent] = received as Array<{ vendorId: string; messageId: string; data: unknown }>;
    expect(sent).toMatchObject({ vendorId: 'com.example.display', messageId: 'Tariff' });
    expect(typeof sent!.data).toBe('string');
    expect(JSON.parse(sent!.data as string)).toEqual({ idTag: ann.idTag, text: '0.35 €/kWh, 1.00 € per session' });
    await eventually(() => t.seen('command.sent').some((e) => e.chargerId === 'CS-DT' && e.action === 'DataTransfer'));
    expect(t.seen('command.sent').filter((e) => e.action === 'DataTransfer').map((e) => [e.chargerId, e.response])).toEqual([['CS-DT', { status: 'Accepted' }]]);
  });
});
