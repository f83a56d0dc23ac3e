import { describe, expect, it } from 'vitest';
import { Accounts } from '../../core/accounts.js';
import type { Finding } from '../../core/events.js';
import { eventually, freePort, sleep, type TestApp, useApp, usePeers } from '../../tests/kit/index.js';

let t: TestApp | undefined;
const peers = usePeers();
// Registered after the peers so that it runs first: the app stops before the peers it talks to.
const apps = useApp();

async function allChannels() {
  const smtp = await peers.smtp();
  const broker = await peers.broker();
  const hook = await peers.receiver();
  const mq = await peers.subscribe(broker.url, 'ck/alerts');
  const channels = [
    { name: 'mail', type: 'email', smtp: { host: '127.0.0.1', port: smtp.port }, from: 'ck@example.org', to: ['ops@example.org'] },
    { name: 'ha', type: 'mqtt', url: broker.url, topic: 'ck/alerts' },
    { name: 'hook', type: 'webhook', url: `${hook.url}/hook`, headers: { 'x-site': 'maple' } },
  ];
  return { smtp, broker, hook, mq, channels };
}

function finding(t: TestApp, over: Partial<Finding> = {}): Finding {
  return {
    id: 1, check: 'connector-fault', chargerId: 'CP1', connectorId: 1, severity: 'warning',
    message: 'Connector 1 reports GroundFailure: the charger detected a ground fault',
    action: 'Check the RCD and the cable for damage; reset the charger', state: 'active',
    since: t.clock.iso(), clearedAt: null, ...over,
  };
}

const ackPath = (text: string) => /\/api(\/alerts\/ack\/[A-Za-z0-9_.-]+)/.exec(text)?.[1];

describe('alerts: from a finding to the channels', () => {
  it('sends exactly one e-mail, one MQTT message and one webhook call for one finding, naming the charger, the problem and an ack link', async () => {
    const p = await allChannels();
    t = await apps.start({ config: { plugins: { alerts: { channels: p.channels } } } });
    t.app.bus.emit('finding.raised', finding(t));
    await eventually(() => p.smtp.mails.length >= 1 && p.mq.messages.length >= 1 && p.hook.calls.length >= 1);
    await sleep(300);
    expect(p.smtp.mails).toHaveLength(1);
    expect(p.mq.messages).toHaveLength(1);
    expect(p.hook.calls).toHaveLength(1);

    const mail = p.smtp.mails[0]!;
    expect(mail.to).toEqual(['ops@example.org']);
    expect(mail.subject).toContain('CP1');
    expect(mail.subject).toContain('WARNING');
    expect(mail.text).toContain('ground fault');
    expect(mail.text).toContain('What to do: Check the RCD');
    expect(mail.text).toMatch(/Since: .*\(Europe\/Berlin\)/);
    expect(mail.text).toContain('/#/chargers/CP1');
    expect(ackPath(mail.text)).toBeTruthy();

    const expected = { severity: 'warning', kind: 'connector-fault', chargerId: 'CP1', state: 'open', message: expect.stringContaining('ground fault') };
    expect(p.mq.messages[0]!.json).toMatchObject({ id: expect.any(Number), ...expected });
    const call = p.hook.calls[0]!;
    expect(call.method).toBe('POST');
    expect(call.url).toBe('/hook');
    expect(call.headers['x-site']).toBe('maple');
    expect(call.headers['idempotency-key']).toBeTruthy();
    expect(call.json).toMatchObject({ id: expect.any(Number), ...expected, notice: 'raised' });
    expect(call.json.ackUrl).toContain('/api/alerts/ack/');

    const list = await t.api('GET', '/alerts');
    expect(list.body).toHaveLength(1);
    expect(list.body[0]).toMatchObject({ ...expected, acknowledgedAt: null, resolvedAt: null });
    expect(t.seen('alert.raised')).toHaveLength(1);
    const detail = await t.api('GET', `/alerts/${list.body[0].id}`);
    expect(detail.body.deliveries.map((d: { channel: string; status: string }) => `${d.channel}:${d.status}`).sort()).toEqual(['ha:sent', 'hook:sent', 'mail:sent']);
  });

  it('updates the open alert instead of notifying again when the same finding is raised again', async () => {
    const p = await allChannels();
    t = await apps.start({ config: { plugins: { alerts: { channels: [p.channels[2]] } } } });
    t.app.bus.emit('finding.raised', finding(t));
    await eventually(() => p.hook.calls.length === 1);
    t.app.bus.emit('finding.raised', finding(t, { id: 2, severity: 'critical', message: 'Connector 1: ground fault again' }));
    await eventually(async () => (await t!.api('GET', '/alerts')).body[0]?.severity === 'critical');
    await sleep(200);
    expect(p.hook.calls).toHaveLength(1);
    const list = await t.api('GET', '/alerts');
    expect(list.body).toHaveLength(1);
    expect(list.body[0]).toMatchObject({ message: 'Connector 1: ground fault again', count: 2 });
  });

  it('sends a resolved notice to the channels that were notified when the finding clears, and to no others', async () => {
    const p = await allChannels();
    const phone = await peers.receiver();
    t = await apps.start({ config: { plugins: { alerts: {
      channels: [...p.channels, { name: 'phone', type: 'webhook', url: phone.url }],
      escalation: [{ after: '0s', notify: ['mail', 'hook'] }, { after: '30m', notify: ['phone'] }],
    } } } });
    t.app.bus.emit('finding.raised', finding(t));
    await eventually(() => p.smtp.mails.length === 1 && p.hook.calls.length === 1);
    t.app.bus.emit('finding.cleared', { ...finding(t), state: 'cleared', clearedAt: t.clock.iso() });
    await eventually(() => p.smtp.mails.length === 2 && p.hook.calls.length === 2);
    expect(p.smtp.mails[1]!.subject).toContain('RESOLVED');
    expect(p.smtp.mails[1]!.text).toContain('CP1');
    expect(p.smtp.mails[1]!.text).not.toContain('/api/alerts/ack/');
    expect(p.hook.calls[1]!.json).toMatchObject({ state: 'resolved', notice: 'resolved', chargerId: 'CP1' });
    await t.clock.advance(31 * 60_000);
    await sleep(200);
    expect(phone.calls).toHaveLength(0);
    expect(p.mq.messages).toHaveLength(0);

    const [alert] = (await t.api('GET', '/alerts?state=resolved')).body;
    expect(alert).toMatchObject({ state: 'resolved', resolvedAt: expect.any(String) });
    expect(t.seen('alert.resolved').map((a) => a.id)).toEqual([alert.id]);
    const detail = await t.api('GET', `/alerts/${alert.id}`);
    const whats = detail.body.timeline.map((e: { what: string }) => e.what);
    expect(whats[0]).toBe('raised');
    expect(whats).toContain('notified');
    expect(whats).toContain('resolved');
  });

  it('stops the next escalation level once an alert is acknowledged, and records who did it', async () => {
    const p = await allChannels();
    const phone = await peers.receiver();
    t = await apps.start({ config: { plugins: { alerts: {
      channels: [p.channels[0], { name: 'phone', type: 'webhook', url: phone.url }],
      escalation: [{ after: '0s', notify: ['mail'] }, { after: '30m', notify: ['phone'] }],
    } } } });
    t.app.bus.emit('finding.raised', finding(t, { chargerId: 'CP1' }));
    t.app.bus.emit('finding.raised', finding(t, { id: 2, chargerId: 'CP2' }));
    await eventually(() => p.smtp.mails.length === 2);
    const list = (await t.api('GET', '/alerts')).body as Array<{ id: number; chargerId: string }>;
    const cp1 = list.find((a) => a.chargerId === 'CP1')!;
    const ack = await t.api('POST', `/alerts/${cp1.id}/ack`);
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'admin', acknowledgedAt: expect.any(String) });
    expect(t.seen('alert.acknowledged')).toEqual([expect.objectContaining({ id: cp1.id, by: 'admin' })]);

    await t.clock.advance(29 * 60_000);
    await sleep(100);
    expect(phone.calls).toHaveLength(0);
    await t.clock.advance(2 * 60_000);
    await eventually(() => phone.calls.length >= 1);
    await sleep(200);
    expect(phone.calls.map((c) => c.json.chargerId)).toEqual(['CP2']);

    const audit = await t.api('GET', '/audit?action=alert.acknowledge');
    expect(audit.body).toEqual([expect.objectContaining({ actor: 'admin', action: 'alert.acknowledge', target: String(cp1.id) })]);
    expect((await t.api('POST', `/alerts/${cp1.id}/ack`)).status).toBe(200);
    expect((await t.api('POST', '/alerts/9999/ack')).status).toBe(404);
  });

  it('repeats the highest level reached until the alert is acknowledged', async () => {
    const hook = await peers.receiver();
    t = await apps.start({ config: { plugins: { alerts: {
      channels: [{ name: 'hook', type: 'webhook', url: hook.url }], repeat: '1h',
    } } } });
    t.app.bus.emit('finding.raised', finding(t));
    await eventually(() => hook.calls.length === 1);
    await t.clock.advance(61 * 60_000);
    await eventually(() => hook.calls.length === 2);
    expect(hook.calls[1]!.json).toMatchObject({ notice: 'repeat', state: 'open' });
    await t.api('POST', `/alerts/${hook.calls[0]!.json.id}/ack`);
    await t.clock.advance(61 * 60_000);
    await sleep(200);
    expect(hook.calls).toHaveLength(2);
  });

  it('delivers an e-mail raised while the SMTP server is down once the server comes up, once', async () => {
    const port = await freePort();
    t = await apps.start({ config: { plugins: { alerts: {
      channels: [{ name: 'mail', type: 'email', smtp: { host: '127.0.0.1', port, auth: { user: 'ck', pass: 's3cret' } }, from: 'ck@example.org', to: ['ops@example.org'] }],
    } } } });
    t.app.bus.emit('finding.raised', finding(t));
    const failed = await eventually(async () => {
      const res = await t!.api('GET', '/alerts/deliveries?status=failed');
      return res.body.length === 1 ? res.body[0] : null;
    });
    expect(failed).toMatchObject({ channel: 'mail', type: 'email', kind: 'raised', attempts: 1, nextAttemptAt: expect.any(String) });
    expect(failed.lastError).toMatch(/ECONNREFUSED|connect/i);
    const channels = await t.api('GET', '/alerts/channels');
    expect(channels.body[0]).toMatchObject({ name: 'mail', lastDelivery: { status: 'failed' }, waiting: 1 });
    expect(JSON.stringify(channels.body)).not.toContain('s3cret');

    const smtp = await peers.smtp({ port, auth: { user: 'ck', pass: 's3cret' } });
    await t.clock.advance(6_000);
    await eventually(() => smtp.mails.length === 1);
    await t.clock.advance(60_000);
    await sleep(200);
    expect(smtp.mails).toHaveLength(1);
    expect((await t.api('GET', '/alerts/deliveries?status=failed')).body).toHaveLength(0);
    expect((await t.api('GET', '/alerts/deliveries?status=sent')).body).toEqual([expect.objectContaining({ channel: 'mail', attempts: 2 })]);
  });

  it('acknowledges through the signed link once it is confirmed, then answers 410; an expired or forged link does nothing', async () => {
    const p = await allChannels();
    t = await apps.start({ config: { plugins: { alerts: { channels: [p.channels[0]], ackLinkTtl: '24h' } } } });
    t.app.bus.emit('finding.raised', finding(t, { chargerId: 'CP1' }));
    await eventually(() => p.smtp.mails.length === 1);
    const link = ackPath(p.smtp.mails[0]!.text)!;
    // As a browser submits the page's form.
    const confirm = () => t!.api('POST', link, { token: null, raw: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } });

    // Opening the link (as a mail scanner does, twice) only asks.
    for (let i = 0; i < 2; i++) {
      const opened = await t.api('GET', link, { token: null });
      expect(opened.status).toBe(200);
      expect(opened.headers.get('content-type')).toContain('text/html');
      expect(opened.body).toContain('<form method="post">');
    }
    expect((await t.api('GET', '/alerts')).body).toEqual([expect.objectContaining({ state: 'open' })]);

    const first = await confirm();
    expect(first.status).toBe(200);
    expect(first.body).toContain('Acknowledged');
    const [alert] = (await t.api('GET', '/alerts')).body;
    expect(alert).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'link:mail' });
    const second = await confirm();
    expect(second.status).toBe(410);
    expect(second.body).toContain('already used');
    expect((await t.api('GET', link, { token: null })).status).toBe(410);

    t.app.bus.emit('finding.raised', finding(t, { id: 2, chargerId: 'CP2' }));
    await eventually(() => p.smtp.mails.length === 2);
    const late = ackPath(p.smtp.mails[1]!.text)!;
    await t.clock.advance(25 * 60 * 60_000);
    for (const method of ['GET', 'POST'] as const) {
      const expired = await t.api(method, late, { token: null });
      expect(expired.status).toBe(410);
      expect(expired.body).toContain('expired');
      const forged = await t.api(method, `${late.slice(0, -3)}AAA`, { token: null });
      expect(forged.status).toBe(404);
    }
    // The admin's session expired with the 25 hours too.
    const cp2 = ((await t.api('GET', '/alerts', { token: await t.login() })).body as Array<{ chargerId: string; state: string }>).find((a) => a.chargerId === 'CP2');
    expect(cp2?.state).toBe('open');
  });

  it('lets technicians acknowledge but not viewers, and answers 401 without a token', async () => {
    const hook = await peers.receiver();
    t = await apps.start({ config: { plugins: { alerts: { channels: [{ name: 'hook', type: 'webhook', url: hook.url }] } } } });
    const accounts = new Accounts(t.app.db, t.clock, 3_600_000);
    await accounts.create({ username: 'vera', role: 'viewer', password: 'viewer-pass-1' });
    await accounts.create({ username: 'tom', role: 'technician', password: 'tech-pass-12' });
    t.app.bus.emit('finding.raised', finding(t));
    await eventually(() => hook.calls.length === 1);
    const id = hook.calls[0]!.json.id as number;
    const viewer = await t.login('vera', 'viewer-pass-1');
    expect((await t.api('GET', '/alerts', { token: viewer })).status).toBe(200);
    expect((await t.api('POST', `/alerts/${id}/ack`, { token: viewer })).status).toBe(403);
    expect((await t.api('GET', '/alerts', { token: null })).status).toBe(401);
    const tech = await t.login('tom', 'tech-pass-12');
    const ack = await t.api('POST', `/alerts/${id}/ack`, { token: tech });
    expect(ack.body).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'tom' });
    expect((await t.api('GET', '/alerts?state=bogus')).status).toBe(400);
  });
});

describe('alerts: channels do not wait for each other', () => {
  it('sends a second alert to a fast webhook at once while a slow one is still answering the first', async () => {
    // Two receivers over real HTTP: one answers after 1.5 s (a slow gateway), the other at once; both stamp arrivals.
    const receiver = async (delayMs: number) => {
      const hook = await peers.receiver();
      hook.state.delayMs = delayMs;
      return { url: `${hook.url}/hook`, calls: hook.calls };
    };
    const slow = await receiver(1500);
    const fast = await receiver(0);
    t = await apps.start({ config: { plugins: { alerts: { channels: [
      { name: 'slow', type: 'webhook', url: slow.url },
      { name: 'fast', type: 'webhook', url: fast.url },
    ] } } } });
    t.app.bus.emit('finding.raised', finding(t, { id: 1, chargerId: 'CP1' }));
    await eventually(() => slow.calls.length === 1 && fast.calls.length === 1);
    const raisedAt = Date.now();
    t.app.bus.emit('finding.raised', finding(t, { id: 2, chargerId: 'CP2' }));
    await eventually(() => fast.calls.length === 2);
    expect(fast.calls[1]!.json).toMatchObject({ chargerId: 'CP2' });
    // Well before the slow receiver has answered CP1 (1.5 s), and before the next run of the delivery job (2 s).
    expect(fast.calls[1]!.at - raisedAt).toBeLessThan(1000);
    // The slow channel still gets both, in order.
    await eventually(() => slow.calls.length === 2, 6000);
    expect(slow.calls.map((c) => c.json.chargerId)).toEqual(['CP1', 'CP2']);
  });

  it('sends a burst of e-mails over one kept SMTP connection', async () => {
    const smtp = await peers.smtp();
    t = await apps.start({ config: { plugins: { alerts: { channels: [
      { name: 'mail', type: 'email', smtp: { host: '127.0.0.1', port: smtp.port }, from: 'ck@example.org', to: ['ops@example.org'] },
    ] } } } });
    for (let i = 1; i <= 5; i++) t.app.bus.emit('finding.raised', finding(t, { id: i, chargerId: `CP${i}` }));
    await eventually(() => smtp.mails.length === 5);
    expect(smtp.mails.map((m) => /Charger (CP\d)/.exec(m.subject)?.[1]).sort()).toEqual(['CP1', 'CP2', 'CP3', 'CP4', 'CP5']);
    expect(smtp.stats.connections).toBe(1);
  });
});
