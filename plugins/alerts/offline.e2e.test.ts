import { describe, expect, it } from 'vitest';
import { eventually, sleep, type TestApp, useApp, usePeers } from '../../tests/kit/index.js';

let t: TestApp | undefined;
const peers = usePeers();
// Registered after the peers so that it runs first: the app stops before the peers it talks to.
const apps = useApp();

describe('alerts with the diagnostics plugin', () => {
  it('an offline charger (real OCPP client disconnects, clock advanced past offlineAfter) produces exactly one e-mail, one MQTT message and one webhook call', async () => {
    const smtp = await peers.smtp();
    const broker = await peers.broker();
    const hook = await peers.receiver();
    const mq = await peers.subscribe(broker.url, 'ck/alerts');
    t = await apps.start({ config: { plugins: {
      diagnostics: { offlineAfter: '3m' },
      alerts: { channels: [
        { name: 'ops-mail', type: 'email', smtp: { host: '127.0.0.1', port: smtp.port }, from: 'ck@example.org', to: ['ops@example.org'] },
        { name: 'ha', type: 'mqtt', url: broker.url, topic: 'ck/alerts' },
        { name: 'phone', type: 'webhook', url: `${hook.url}/ntfy` },
      ] },
    } } });
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const gone = t.waitFor('charger.disconnected');
    await cp.close({ code: 1000 });
    await gone;
    await t.app.bus.idle();
    await t.clock.advance(2 * 60_000);
    await sleep(200);
    expect(smtp.mails).toHaveLength(0);
    await t.clock.advance(90_000);

    await eventually(() => smtp.mails.length >= 1 && mq.messages.length >= 1 && hook.calls.length >= 1);
    await t.clock.advance(60_000);
    await sleep(300);
    expect(smtp.mails).toHaveLength(1);
    expect(mq.messages).toHaveLength(1);
    expect(hook.calls).toHaveLength(1);
    expect(smtp.mails[0]!.subject).toMatch(/CRITICAL: Charger CP1 is offline/);
    expect(smtp.mails[0]!.text).toContain('/api/alerts/ack/');
    expect(smtp.mails[0]!.text).toMatch(/What to do: .*power/);
    for (const payload of [mq.messages[0]!.json, hook.calls[0]!.json]) {
      expect(payload).toMatchObject({ kind: 'offline', chargerId: 'CP1', severity: 'critical', state: 'open', message: expect.stringContaining('CP1 is offline') });
    }

    // The cable is back: one resolved notice per channel.
    const back = await t.chargePoint('CP1');
    await back.boot();
    await eventually(() => smtp.mails.length === 2 && mq.messages.length === 2 && hook.calls.length === 2);
    expect(smtp.mails[1]!.subject).toContain('RESOLVED');
    expect(hook.calls[1]!.json).toMatchObject({ state: 'resolved', notice: 'resolved' });
  });
});

describe('alerts on time', () => {
  it('delivers the first e-mail about a charger whose socket closed within offlineAfter + 2 s, with the evaluation job a minute away', async () => {
    const smtp = await peers.smtp();
    t = await apps.start({ config: { plugins: {
      diagnostics: { offlineAfter: '1s', evaluateEvery: '60s' },
      alerts: { channels: [
        { name: 'ops-mail', type: 'email', smtp: { host: '127.0.0.1', port: smtp.port }, from: 'ck@example.org', to: ['ops@example.org'] },
      ] },
    } } });
    const cp = await t.chargePoint('CP1');
    await cp.boot();
    const closedAt = Date.now();
    await cp.close({ code: 1000 });
    await eventually(() => smtp.mails.length >= 1, 5000);
    const tookMs = smtp.mails[0]!.receivedAt - closedAt;
    expect(smtp.mails[0]!.subject).toMatch(/Charger CP1 is offline/);
    expect(tookMs).toBeGreaterThanOrEqual(900);
    expect(tookMs).toBeLessThanOrEqual(1000 + 2000);
  });
});
