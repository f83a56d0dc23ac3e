import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../core/events.js';
import { eventually, freePort, sleep, type TestApp, useApp, usePeers } from '../../../tests/kit/index.js';
import { renderJson, renderString } from './template.js';

let t: TestApp | undefined;
const peers = usePeers();
// Registered after the peers so that it runs first: the app stops before the peers it talks to.
const apps = useApp();

const fault = (t: TestApp, over: Partial<Finding> = {}): Finding => ({
  id: 7, check: 'connector-fault', chargerId: 'CP1', connectorId: 2, severity: 'critical',
  message: 'Connector 2 reports HighTemperature: the connector is too hot', state: 'active',
  since: t.clock.iso(), clearedAt: null, ...over,
});

describe('channel types', () => {
  it('shapes ntfy, Gotify, Slack, templated webhook and SMS gateway requests', async () => {
    const r = await peers.receiver();
    t = await apps.start({ config: { plugins: { alerts: { channels: [
      { name: 'push', type: 'webhook', preset: 'ntfy', url: `${r.url}/garage`, token: 'tk_ntfy' },
      { name: 'gotify', type: 'webhook', preset: 'gotify', url: `${r.url}/gotify`, token: 'gotify-app' },
      { name: 'slack', type: 'webhook', preset: 'slack', url: `${r.url}/slack` },
      { name: 'custom', type: 'webhook', url: `${r.url}/custom`, body: { text: 'Alert {{id}} on {{chargerId}}: {{message}}', level: '{{severity}}', alertId: '{{id}}' } },
      { name: 'sms', type: 'sms', url: `${r.url}/sms`, to: ['+4915100001', '+4915100002'], auth: { bearer: 'sms-key' } },
    ] } } } });
    t.app.bus.emit('finding.raised', fault(t));
    await eventually(() => r.calls.length === 6);
    await sleep(200);
    expect(r.calls).toHaveLength(6);
    const at = (path: string) => r.calls.filter((c) => c.url === path);

    const [ntfy] = at('/');
    expect(ntfy!.headers.authorization).toBe('Bearer tk_ntfy');
    expect(ntfy!.json).toMatchObject({ topic: 'garage', priority: 5, tags: ['rotating_light'] });
    expect(ntfy!.json.title).toContain('CP1');
    expect(ntfy!.json.actions[0]).toMatchObject({ action: 'view', label: 'Acknowledge', url: expect.stringContaining('/api/alerts/ack/') });

    const [gotify] = at('/gotify/message');
    expect(gotify!.headers['x-gotify-key']).toBe('gotify-app');
    expect(gotify!.json).toMatchObject({ priority: 8, title: expect.stringContaining('CP1'), message: expect.stringContaining('too hot') });

    const [slack] = at('/slack');
    expect(slack!.json.text).toContain('CP1');
    expect(slack!.json.text).toContain('|Acknowledge>');

    const [custom] = at('/custom');
    expect(custom!.json).toEqual({ text: expect.stringMatching(/^Alert \d+ on CP1: Connector 2 reports HighTemperature/), level: 'critical', alertId: expect.any(Number) });

    const sms = at('/sms');
    expect(sms.map((c) => c.json.to)).toEqual(['+4915100001', '+4915100002']);
    expect(sms[0]!.headers.authorization).toBe('Bearer sms-key');
    expect(sms[0]!.json.message).toContain('CRITICAL: Charger CP1, connector 2 reports a connector fault');
    expect(sms[0]!.json.message).toContain('Ack: http');
  });

  it('announces a Home Assistant problem sensor per charger and turns it off when the alert resolves', async () => {
    const broker = await peers.broker();
    const ha = await peers.subscribe(broker.url, 'homeassistant/#');
    const states = await peers.subscribe(broker.url, 'ck/alerts/CP1/problem');
    t = await apps.start({ config: { plugins: { alerts: { channels: [
      { name: 'ha', type: 'mqtt', url: broker.url, topic: 'ck/alerts', homeAssistant: { discoveryPrefix: 'homeassistant' } },
    ] } } } });
    t.app.bus.emit('finding.raised', fault(t));
    await eventually(() => ha.messages.length === 1 && states.messages.length === 1);
    expect(ha.messages[0]).toMatchObject({ topic: 'homeassistant/binary_sensor/chargekeeper_CP1/problem/config' });
    expect(ha.messages[0]!.json).toMatchObject({ device_class: 'problem', state_topic: 'ck/alerts/CP1/problem', unique_id: 'chargekeeper_CP1_problem' });
    expect(states.messages[0]!.text).toBe('ON');
    t.app.bus.emit('finding.cleared', { ...fault(t), state: 'cleared', clearedAt: t.clock.iso() });
    await eventually(() => states.messages.length === 2);
    expect(states.messages[1]!.text).toBe('OFF');
  });

  it('sends a test message on request and reports the error of a channel whose peer is down', async () => {
    const smtp = await peers.smtp({ auth: { user: 'u', pass: 'hunter2' } });
    const dead = await freePort();
    t = await apps.start({ config: { plugins: { alerts: { channels: [
      { name: 'mail', type: 'email', smtp: { host: '127.0.0.1', port: smtp.port, auth: { user: 'u', pass: 'hunter2' } }, from: 'ck@example.org', to: ['a@example.org'] },
      { name: 'down', type: 'webhook', url: `http://127.0.0.1:${dead}/x?token=sekrit`, timeout: '2s' },
      { name: 'broker-down', type: 'mqtt', url: `mqtt://u:pw-in-url@127.0.0.1:${dead}`, topic: 'x', timeout: '2s' },
    ] } } } });
    const ok = await t.api('POST', '/alerts/channels/mail/test');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ channel: 'mail', delivered: true });
    expect(smtp.mails[0]!.subject).toContain('Test message');
    const bad = await t.api('POST', '/alerts/channels/down/test');
    expect(bad.status).toBe(502);
    expect(bad.body.message).toMatch(/down: .*ECONNREFUSED/);
    expect((await t.api('POST', '/alerts/channels/nope/test')).status).toBe(404);
    const started = Date.now();
    const mqttDown = await t.api('POST', '/alerts/channels/broker-down/test');
    expect(mqttDown.status).toBe(502);
    expect(mqttDown.body.message).toMatch(/ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(3000);

    const list = await t.api('GET', '/alerts/channels');
    expect(list.body).toEqual([
      expect.objectContaining({ name: 'mail', type: 'email', lastDelivery: expect.objectContaining({ status: 'sent', kind: 'test' }) }),
      expect.objectContaining({ name: 'down', type: 'webhook', lastDelivery: expect.objectContaining({ status: 'failed', error: expect.stringContaining('ECONNREFUSED') }) }),
      expect.objectContaining({ name: 'broker-down', type: 'mqtt', target: `MQTT mqtt://127.0.0.1:${dead} topic x` }),
    ]);
    expect(JSON.stringify(list.body)).not.toMatch(/hunter2|sekrit|pw-in-url/);
  });
});

describe('templates', () => {
  it('keeps a whole-placeholder value as it is and splices values into longer strings', () => {
    const vars = { id: 5, chargerId: 'CP1', payload: { a: 1 } };
    expect(renderJson({ id: '{{id}}', all: '{{payload}}', text: 'alert {{id}} at {{chargerId}}{{missing}}', n: [1, '{{ id }}'] }, vars))
      .toEqual({ id: 5, all: { a: 1 }, text: 'alert 5 at CP1', n: [1, 5] });
    expect(renderString('https://gw/send?to={{to}}', { to: '+49 151' }, encodeURIComponent)).toBe('https://gw/send?to=%2B49%20151');
  });
});
