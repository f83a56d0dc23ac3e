import { describe, expect, it } from 'vitest';
import type { Finding } from '../../core/events.js';
import { eventually, sleep, type TestApp, useApp, useTeardown } from '../../tests/kit/index.js';
import { startPushService } from './test-kit.js';

let t: TestApp | undefined;
const defer = useTeardown();
// Registered after the cleanups so that it runs first: the app stops before what it talks to.
const apps = useApp();

const fault = (t: TestApp, chargerId: string): Finding => ({
  id: 7, check: 'connector-fault', chargerId, connectorId: 1, severity: 'critical',
  message: `Connector 1 of ${chargerId} reports a ground fault.`, state: 'active', since: t.clock.iso(), clearedAt: null,
});

describe('alerts: web push channel', () => {
  it('sends an encrypted, VAPID-signed push to each subscribed browser of the named accounts, and drops a subscription the service says is gone', async () => {
    const svc = await startPushService();
    defer(svc.close);
    t = await apps.start({ config: { plugins: { alerts: { channels: [{ name: 'phones', type: 'webpush', accounts: ['admin'], subject: 'mailto:ops@example.org', caFile: svc.caFile }] } } } });
    const key = await t.api('GET', '/push/key');
    expect(key.status).toBe(200);
    expect(key.body.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
    expect((await t.api('GET', '/push/key', { token: null })).status).toBe(401);

    const phone = await t.api('POST', '/push/subscriptions', { body: svc.subscribe('phone') });
    expect(phone.status).toBe(201);
    const old = await t.api('POST', '/push/subscriptions', { body: svc.subscribe('old-laptop') });
    expect(old.status).toBe(201);
    svc.gone.add('/push/old-laptop');
    expect((await t.api('POST', '/push/subscriptions', { body: { endpoint: 'nope', keys: {} } })).status).toBe(400);

    t.app.bus.emit('finding.raised', fault(t, 'CP1'));
    await eventually(() => svc.messages.length === 1);
    expect(svc.errors).toEqual([]);
    const [m] = svc.messages;
    expect(m!.path).toBe('/push/phone');
    expect(m!.vapidKey).toBe(key.body.publicKey);
    expect(m!.claims).toMatchObject({ aud: svc.url, sub: 'mailto:ops@example.org' });
    expect(m!.claims.exp * 1000).toBeGreaterThan(Date.now());
    expect(m!.json).toMatchObject({ notice: 'raised', title: expect.stringContaining('CP1'), ackUrl: expect.stringContaining('/api/alerts/ack/') });
    expect(m!.json.alert).toMatchObject({ kind: 'connector-fault', chargerId: 'CP1', state: 'open' });
    // The expired one is gone; deleting the other ends its pushes.
    await eventually(async () => Number((await t!.app.db('alerts_push_subscriptions').count({ n: '*' }).first() as { n: number | string }).n) === 1);
    expect((await t.api('DELETE', `/push/subscriptions/${phone.body.id}`)).status).toBe(204);
    expect((await t.api('DELETE', `/push/subscriptions/${phone.body.id}`)).status).toBe(404);

    // The VAPID keys stay across a restart: browsers subscribed with them keep working.
    await t.restart();
    expect((await t.api('GET', '/push/key')).body.publicKey).toBe(key.body.publicKey);
    await sleep(100);
  });
});
