import { describe, expect, it } from 'vitest';
import { eventually, rawCharger, type TestApp, upgradeStatus, useApp } from '../kit/index.js';

let t: TestApp;
const apps = useApp();

const boot = { chargePointVendor: 'V', chargePointModel: 'M' };

describe('everything a charger controls is bounded', () => {
  it('closes a socket that sends a frame over 1 MiB with 1009, and stores nothing of it', async () => {
    t = await apps.start();
    const cp = await rawCharger(t.port, 'BIG');
    await cp.call('b', 'BootNotification', boot);
    cp.ws.send(JSON.stringify([2, 'dt', 'DataTransfer', { vendorId: 'X', data: 'A'.repeat(1024 * 1024 + 10) }]));
    expect((await cp.closed).code).toBe(1009);
    expect(await t.app.db('charger_messages').where({ charger_id: 'BIG', action: 'DataTransfer' })).toEqual([]);
  });

  it('answers oversized fields and lists with the errata\'s CALLERRORs and keeps the charger connected', async () => {
    t = await apps.start();
    const cp = await rawCharger(t.port, 'FAT');
    await cp.call('b', 'BootNotification', boot);
    const dt = await cp.call('dt', 'DataTransfer', { vendorId: 'X', data: 'A'.repeat(20_000) });
    expect(dt.slice(0, 3)).toEqual([4, 'dt', 'PropertyConstraintViolation']);
    const many = Array.from({ length: 1001 }, (_, i) => ({ timestamp: new Date(Date.now() - i * 1000).toISOString(), sampledValue: [{ value: '1' }] }));
    const mv = await cp.call('mv', 'MeterValues', { connectorId: 1, meterValue: many });
    expect(mv.slice(0, 4)).toEqual([4, 'mv', 'OccurrenceConstraintViolation', 'meterValue has more than 1000 entries']);
    const longValue = [{ timestamp: new Date().toISOString(), sampledValue: [{ value: '9'.repeat(1000) }] }];
    expect((await cp.call('lv', 'MeterValues', { connectorId: 1, meterValue: longValue })).slice(0, 3)).toEqual([4, 'lv', 'PropertyConstraintViolation']);
    expect(await t.app.db('meter_values').where({ charger_id: 'FAT' })).toEqual([]);
    expect((await cp.call('hb', 'Heartbeat', {}))[0]).toBe(3);
  });

  it('caps the calls one charger may have waiting', async () => {
    t = await apps.start();
    const cp = await rawCharger(t.port, 'EAGER');
    await cp.call('b', 'BootNotification', boot);
    for (let i = 0; i < 40; i++) cp.ws.send(JSON.stringify([2, `s${i}`, 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' }]));
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => cp.reply(`s${i}`)));
    const refused = replies.filter((r) => r[0] === 4);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.slice(2, 4)).toEqual(['GenericError', 'more than 10 calls waiting; send one at a time']);
    expect(replies.filter((r) => r[0] === 3).length).toBeGreaterThanOrEqual(10);
  });

  it('limits the message rate of one charger without slowing the others, and closes a charger that keeps flooding', async () => {
    t = await apps.start({ config: { ocpp: { maxMessageRate: 5 } } });
    const flood = await rawCharger(t.port, 'FLOOD');
    const bystander = await t.chargePoint('CALM');
    await bystander.boot();
    let refused = 0;
    const ids = Array.from({ length: 400 }, (_, i) => `h${i}`);
    const replies = ids.map((id) => flood.reply(id).then((r) => { if (r[0] === 4) refused++; }, () => undefined));
    for (const id of ids) flood.ws.send(JSON.stringify([2, id, 'Heartbeat', {}]));
    // The bystander is served while the flood runs.
    const t0 = Date.now();
    expect(await bystander.call('Heartbeat', {})).toHaveProperty('currentTime');
    expect(Date.now() - t0).toBeLessThan(2000);
    await Promise.all(replies);
    // Refused from the burst on, until the socket is closed after 200 refusals in a row.
    expect(refused).toBeGreaterThanOrEqual(200);
    expect((await flood.closed).code).toBe(1008);
  });

  it('refuses a charger that reconnects in a loop, and reconnecting does not refill its message budget', async () => {
    t = await apps.start({ config: { ocpp: { maxMessageRate: 2 } } });
    const first = await rawCharger(t.port, 'LOOP');
    const answers: unknown[][] = [];
    for (let i = 0; i < 12; i++) answers.push(await first.call(`a${i}`, 'Heartbeat', {}));
    expect(answers.filter((a) => a[0] === 4).length).toBeGreaterThan(0); // burst of 10 used up
    first.ws.close();
    await first.closed;
    const second = await rawCharger(t.port, 'LOOP');
    expect((await second.call('b0', 'Heartbeat', {}))[0]).toBe(4); // still over budget
    second.ws.close();
    await second.closed;
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push(await upgradeStatus(t.port, 'LOOP'));
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 101).length).toBeLessThanOrEqual(18);
    const rows = await t.app.db('charger_messages').where({ charger_id: 'LOOP', action: 'connected' });
    expect(rows.length).toBeLessThanOrEqual(20);
  });

  it('writes no history rows for a pending charger and none per heartbeat, only its latest status', async () => {
    t = await apps.start({ config: { ocpp: { unknownChargers: 'pending' } } });
    const pending = await rawCharger(t.port, 'PEND');
    for (let i = 0; i < 20; i++) {
      await pending.call(`b${i}`, 'BootNotification', boot);
      await pending.call(`h${i}`, 'Heartbeat', {});
      await pending.call(`s${i}`, 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: i % 2 ? 'Available' : 'Unavailable' });
    }
    expect(await t.app.db('status_notifications').where({ charger_id: 'PEND' })).toEqual([]);
    expect(await t.app.db('boot_notifications').where({ charger_id: 'PEND' })).toEqual([]);
    expect((await t.app.db('charger_messages').where({ charger_id: 'PEND' }).select('action')).map((r) => r.action)).toEqual(['connected']);
    expect(await t.app.db('connectors').where({ charger_id: 'PEND' }).select('status')).toEqual([{ status: 'Available' }]);

    await t.api('POST', '/chargers/PEND/approve');
    const hb = await pending.call('h-approved', 'Heartbeat', {});
    expect(hb[0]).toBe(3);
    expect(await t.app.db('charger_messages').where({ charger_id: 'PEND', action: 'Heartbeat' })).toEqual([]);
    // The heartbeat time is still shown, and stored with the last-seen times.
    const detail = await t.api<{ lastHeartbeatAt: string | null }>('GET', '/chargers/PEND');
    expect(detail.body.lastHeartbeatAt).toBe((hb[2] as { currentTime: string }).currentTime);
    await eventually(async () => (await t.app.db('chargers').where({ id: 'PEND' }).first('last_heartbeat_at'))?.last_heartbeat_at, 8000);
  });
});
