import { describe, expect, it } from 'vitest';
import { eventually, sleep, type TestApp, useApp, useTeardown } from '../../tests/kit/index.js';
import { startPushService } from './test-kit.js';
import { authorize, charger, driver, meter, startTx, status, stopTx, withReservationProfile } from '../reservations/test-kit.js';

let t: TestApp | undefined;
const defer = useTeardown();
// Registered after the cleanups so that it runs first: the app stops before what it talks to.
const apps = useApp();

async function site(drivers: Record<string, unknown> = {}) {
  const svc = await startPushService();
  defer(svc.close);
  t = await apps.start({
    config: {
      plugins: {
        users: {}, billing: { currency: 'EUR' }, reservations: { queueHold: '5m' },
        alerts: { push: { caFile: svc.caFile, subject: 'mailto:site@example.org' }, drivers },
      },
    },
  });
  const tariff = await t.api('POST', '/tariffs', { body: { name: 'Standard', pricePerKwh: 0.30, vatPct: 0 } });
  expect(tariff.status, JSON.stringify(tariff.body)).toBe(201);
  return { svc, t };
}

/** A driver whose phone subscribed to push on the drivers' page. */
async function withPhone(t: TestApp, svc: Awaited<ReturnType<typeof startPushService>>, name: string, idTag: string) {
  const d = await driver(t, name, idTag);
  const sub = await t.api('POST', '/push/subscriptions', { token: d.token, body: svc.subscribe(`${name}-phone`) });
  expect(sub.status).toBe(201);
  return d;
}

const to = (svc: Awaited<ReturnType<typeof startPushService>>, phone: string) => svc.messages.filter((m) => m.path === `/push/${phone}`).map((m) => m.json);
const notices = (t: TestApp) => t.app.db('alerts_driver_notices').orderBy('id') as Promise<Array<Record<string, unknown>>>;

describe('alerts: notices to drivers\' phones', () => {
  it('tells the driver the car stands idle and, when the session ends, its energy and price', async () => {
    const { svc } = await site({ idleAfter: '15m' });
    const ann = await withPhone(t!, svc, 'ann', 'ANN-1');
    const cp = await charger(t!, 'CP1');
    const tx = await startTx(cp, 'ANN-1');
    await status(cp, 1, 'Charging');
    await meter(cp, tx.transactionId, 13_400, 7000);
    // The car is full: it stops taking power but stays plugged in.
    await status(cp, 1, 'SuspendedEV');
    await eventually(async () => (await notices(t!)).length === 1);
    await t!.clock.advance(14 * 60_000);
    await sleep(50);
    expect(to(svc, 'ann-phone')).toEqual([]);
    await t!.clock.advance(60_000 + 1000);
    await eventually(() => to(svc, 'ann-phone').length === 1);
    expect(to(svc, 'ann-phone')[0]).toMatchObject({
      notice: 'driver', kind: 'car-idle', url: '/#/p/drive', title: 'Please move your car from CP1',
      body: expect.stringContaining('without charging for 15 min'),
    });

    await stopTx(cp, tx.transactionId, 13_400);
    await eventually(() => to(svc, 'ann-phone').length === 2);
    // 12.4 kWh at 0.30 EUR.
    expect(to(svc, 'ann-phone')[1]).toMatchObject({ kind: 'session-finished', title: 'Charging finished: 12.4 kWh, 3.72 EUR' });
    expect(to(svc, 'ann-phone')[1].body).toMatch(/^Your session at CP1, connector 1 ended after .*: 12\.4 kWh for 3\.72 EUR\.$/);
    expect(svc.errors).toEqual([]);
    // Signed with the site's VAPID key and contact, as the alert channel's pushes are.
    expect(svc.messages[0]!.claims.sub).toBe('mailto:site@example.org');
    expect(svc.messages[0]!.vapidKey).toBe((await t!.api('GET', '/push/key', { token: ann.token })).body.publicKey);
  });

  it('does not tell a car that charges again, nor a driver who turned the kind off, nor one without a phone', async () => {
    const { svc } = await site({ idleAfter: '15m' });
    const ann = await withPhone(t!, svc, 'ann', 'ANN-1');
    await driver(t!, 'bob', 'BOB-1');
    const cp = await charger(t!, 'CP1', 2);
    const tx = await startTx(cp, 'ANN-1');
    await status(cp, 1, 'SuspendedEV');
    await status(cp, 1, 'Charging');
    const bobTx = await startTx(cp, 'BOB-1', 2);
    await status(cp, 2, 'SuspendedEV');

    const off = await t!.api('PUT', '/push/preferences', { token: ann.token, body: { kinds: { 'session-finished': false } } });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(off.body).toEqual({
      kinds: { 'session-finished': false, 'car-idle': true, 'reservation-expiring': true, 'queue-turn': true, 'card-refused': true },
      quietHours: null,
    });
    expect((await t!.api('GET', '/push/preferences', { token: ann.token })).body).toEqual(off.body);
    expect((await t!.api('PUT', '/push/preferences', { token: ann.token, body: { kinds: { 'weather': true } } })).status).toBe(400);

    await t!.clock.advance(16 * 60_000);
    await stopTx(cp, tx.transactionId);
    await stopTx(cp, bobTx.transactionId);
    await eventually(async () => (await notices(t!)).some((n) => n.kind === 'session-finished' && n.status !== 'pending'));
    await t!.clock.advance(2000);
    expect(to(svc, 'ann-phone')).toEqual([]);
    const rows = await notices(t!);
    expect(rows.map((r) => [r.kind, r.status, r.last_error])).toEqual([
      ['car-idle', 'cancelled', null],
      ['session-finished', 'skipped', 'turned off by the driver'],
    ]);
  });

  it('reminds of a reservation before it expires, and tells the next driver in line it is their turn', async () => {
    const { svc } = await site({ reservationReminder: '5m' });
    const ann = await withPhone(t!, svc, 'ann', 'ANN-1');
    const bob = await withPhone(t!, svc, 'bob', 'BOB-1');
    const cp = await charger(t!, 'CP1');
    withReservationProfile(cp);
    const made = await t!.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP1', connectorId: 1 } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    await t!.clock.advance(24 * 60_000);
    await sleep(50);
    expect(to(svc, 'ann-phone')).toEqual([]);
    await t!.clock.advance(60_000 + 1000);
    await eventually(() => to(svc, 'ann-phone').length === 1);
    expect(to(svc, 'ann-phone')[0]).toMatchObject({ kind: 'reservation-expiring', title: 'Your reservation at CP1 expires in 5 min' });
    expect(to(svc, 'ann-phone')[0].body).toMatch(/^Your reservation at CP1, connector 1 expires at \d\d:\d\d\. Start charging before then/);

    // Ann charges; Bob waits in line and is told when she is done.
    const tx = await startTx(cp, 'ANN-1', 1, { reservationId: made.body.id });
    await status(cp, 1, 'Charging');
    expect((await t!.api('POST', '/reservations/queue', { token: bob.token, body: { chargerId: 'CP1' } })).status).toBe(201);
    await stopTx(cp, tx.transactionId);
    await status(cp, 1, 'Available');
    await eventually(() => to(svc, 'bob-phone').length === 1);
    expect(to(svc, 'bob-phone')[0]).toMatchObject({ kind: 'queue-turn', title: 'Your turn: CP1 is free for you' });
    expect(to(svc, 'bob-phone')[0].body).toMatch(/^CP1, connector 1 is held for you until \d\d:\d\d\. Plug in/);
  });

  it('drops a reservation reminder once the reservation is cancelled', async () => {
    const { svc } = await site({ reservationReminder: '5m' });
    const ann = await withPhone(t!, svc, 'ann', 'ANN-1');
    const cp = await charger(t!, 'CP1');
    withReservationProfile(cp);
    const made = await t!.api('POST', '/reservations', { token: ann.token, body: { chargerId: 'CP1', connectorId: 1 } });
    await eventually(async () => (await notices(t!)).length === 1);
    expect((await t!.api('DELETE', `/reservations/${made.body.id}`, { token: ann.token })).status).toBe(200);
    await eventually(async () => (await notices(t!))[0]!.status === 'cancelled');
    await t!.clock.advance(26 * 60_000);
    await sleep(50);
    expect(to(svc, 'ann-phone')).toEqual([]);
  });

  it('tells the owner of a refused card once per charger, and holds it through the driver\'s quiet hours', async () => {
    const { svc } = await site();
    const ann = await withPhone(t!, svc, 'ann', 'ANN-CARD-0042');
    const cp = await charger(t!, 'CP3');
    const blocked = await t!.api('PATCH', '/tags/ANN-CARD-0042', { body: { status: 'Blocked' } });
    expect(blocked.status, JSON.stringify(blocked.body)).toBe(200);

    // Quiet hours around the site's (Europe/Berlin) current time.
    const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    const at = (ms: number) => local.format(new Date(t!.clock.nowMs() + ms));
    const quiet = await t!.api('PUT', '/push/preferences', { token: ann.token, body: { quietHours: { from: at(-3600_000), to: at(3600_000) } } });
    expect(quiet.status, JSON.stringify(quiet.body)).toBe(200);

    expect((await authorize(cp, 'ANN-CARD-0042')).status).toBe('Blocked');
    expect((await authorize(cp, 'ann-card-0042')).status).toBe('Blocked');
    await eventually(async () => (await notices(t!))[0]?.next_attempt_at !== (await notices(t!))[0]?.created_at);
    await t!.clock.advance(2000);
    await sleep(50);
    expect(to(svc, 'ann-phone')).toEqual([]);
    const [held] = await notices(t!);
    expect(held).toMatchObject({ kind: 'card-refused', status: 'pending' });
    expect(Date.parse(held!.next_attempt_at as string) - t!.clock.nowMs()).toBeGreaterThan(55 * 60_000);

    await t!.clock.advance(61 * 60_000);
    await eventually(() => to(svc, 'ann-phone').length === 1);
    expect(to(svc, 'ann-phone')[0]).toMatchObject({
      kind: 'card-refused', title: 'Your card was refused at CP3', body: 'Card …0042 was refused at CP3: it is blocked.',
    });
    expect((await notices(t!)).length).toBe(1);
  });

  it('stores no notice for a driver without a subscribed phone, and none when driver notices are off', async () => {
    const { svc } = await site({ enabled: false });
    await withPhone(t!, svc, 'ann', 'ANN-1');
    await driver(t!, 'bob', 'BOB-1');
    const cp = await charger(t!, 'CP1', 2);
    const a = await startTx(cp, 'ANN-1');
    const b = await startTx(cp, 'BOB-1', 2);
    await stopTx(cp, a.transactionId);
    await stopTx(cp, b.transactionId);
    await eventually(() => t!.seen('session.stopped').some((e) => e.transactionId === b.transactionId));
    await sleep(100);
    expect(await notices(t!)).toEqual([]);
    await t!.restart({ plugins: { users: {}, billing: { currency: 'EUR' }, alerts: { push: { caFile: svc.caFile }, drivers: {} } } });
    const cp2 = await charger(t!, 'CP1', 2);
    const c = await startTx(cp2, 'BOB-1', 2);
    await stopTx(cp2, c.transactionId);
    await eventually(() => t!.seen('session.stopped').some((e) => e.transactionId === c.transactionId));
    await sleep(100);
    expect(await notices(t!)).toEqual([]);
  });

  it('takes VAPID keys from config, and names the key when only one is given', async () => {
    const svc = await startPushService();
    defer(svc.close);
    const { default: webpush } = await import('web-push');
    const keys = webpush.generateVAPIDKeys();
    t = await apps.start({ config: { plugins: { users: {}, alerts: { push: { vapidPublicKey: keys.publicKey, vapidPrivateKey: keys.privateKey } } } } });
    expect((await t.api('GET', '/push/key')).body.publicKey).toBe(keys.publicKey);
    await t.stop();
    t = undefined;
    await expect(apps.start({ config: { plugins: { alerts: { push: { vapidPublicKey: keys.publicKey } } } } }))
      .rejects.toThrow(/plugins\.alerts\.push\.vapidPrivateKey/);
  });
});
