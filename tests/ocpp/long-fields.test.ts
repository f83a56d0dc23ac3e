import { describe, expect, it } from 'vitest';
import { rawCharger, type TestApp, useApp } from '../kit/index.js';

let t: TestApp;
const apps = useApp();

const SERIAL_42 = 'SN-0123456789-ABCDEFGHIJ-0123456789-ABCDEF';

describe('fields longer than OCPP 1.6 allows', () => {
  it('answers PropertyConstraintViolation naming the field, and the charger stays connected', async () => {
    t = await apps.start();
    expect(SERIAL_42).toHaveLength(42);
    const raw = await rawCharger(t.port, 'LONG1');
    const reply = await raw.call('b1', 'BootNotification', { chargePointVendor: 'Keba', chargePointModel: 'KC-P30', chargeBoxSerialNumber: SERIAL_42 });
    expect(reply).toEqual([4, 'b1', 'PropertyConstraintViolation', 'chargeBoxSerialNumber is longer than 25 characters (42)', {}]);
    const ok = await raw.call('b2', 'BootNotification', { chargePointVendor: 'Keba', chargePointModel: 'KC-P30', chargeBoxSerialNumber: 'SN-1' });
    expect(ok[0]).toBe(3);
    // The operator's own payloads are never cut: a too-long field is a 400 naming it.
    const cmd = await t.api('POST', '/chargers/LONG1/commands/ChangeConfiguration', { body: { key: 'K'.repeat(51), value: '1' } });
    expect(cmd.status).toBe(400);
    raw.ws.close();
  });

  it('stores the cut value and raises a truncated-field finding for a lenient model, and refuses the others', async () => {
    t = await apps.start({ config: { ocpp: { lenient: { models: [{ vendor: 'keba' }] } }, plugins: { diagnostics: {} } } });
    const keba = await t.chargePoint('KEBA1', { strict: false });
    const boot = await keba.boot({ chargePointVendor: 'Keba', chargePointModel: 'KC-P30', chargePointSerialNumber: undefined, chargeBoxSerialNumber: SERIAL_42 });
    expect(boot.status).toBe('Accepted');
    expect((await t.api('GET', '/chargers/KEBA1')).body.serialNumber).toBe(SERIAL_42.slice(0, 25));
    await t.app.bus.idle();
    const [f] = (await t.api('GET', '/diagnostics/findings?check=truncated-field&state=active')).body;
    expect(f).toMatchObject({ chargerId: 'KEBA1', severity: 'info' });
    expect(f.message).toMatch(/sent chargeBoxSerialNumber in BootNotification with 42 characters, more than the 25 OCPP allows; it was stored cut to 25/);
    expect(t.logs.some((l) => l.includes(SERIAL_42))).toBe(false);

    // A card id is never cut, lenient or not: a cut id could name another card.
    await expect(keba.call('Authorize', { idTag: 'X'.repeat(21) })).rejects.toMatchObject({ rpcErrorCode: 'PropertyConstraintViolation' });

    const other = await t.chargePoint('ABB1', { strict: false });
    await expect(other.boot({ chargePointVendor: 'ABB', chargeBoxSerialNumber: SERIAL_42 })).rejects.toMatchObject({ rpcErrorCode: 'PropertyConstraintViolation' });

    // A boot within the limits clears the finding.
    await keba.boot({ chargePointVendor: 'Keba', chargePointModel: 'KC-P30', chargeBoxSerialNumber: 'SN-2' });
    await t.app.bus.idle();
    expect((await t.api('GET', '/diagnostics/findings?check=truncated-field&state=active')).body).toEqual([]);
  });

  it('cuts for every charger with ocpp.lenient.everyCharger', async () => {
    t = await apps.start({ config: { ocpp: { lenient: { everyCharger: true } } } });
    const cp = await t.chargePoint('ANY1', { strict: false });
    expect((await cp.boot({ firmwareVersion: 'v'.repeat(60) })).status).toBe('Accepted');
    expect((await t.api('GET', '/chargers')).body[0].firmwareVersion).toBe('v'.repeat(50));
    expect(t.seen('field.truncated')).toEqual([expect.objectContaining({ chargerId: 'ANY1', field: 'firmwareVersion', maxLength: 50, length: 60 })]);
  });
});
