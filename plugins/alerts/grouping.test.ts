import { describe, expect, it } from 'vitest';
import type { Finding } from '../../core/events.js';
import { eventually, sleep, type TestApp, useApp, usePeers } from '../../tests/kit/index.js';

let t: TestApp | undefined;
const peers = usePeers();
// Registered after the peers so that it runs first: the app stops before the peers it talks to.
const apps = useApp();

async function hookAndMail() {
  const hook = await peers.receiver();
  const smtp = await peers.smtp();
  return {
    hook, smtp,
    channels: [
      { name: 'hook', type: 'webhook', url: hook.url },
      { name: 'mail', type: 'email', smtp: { host: '127.0.0.1', port: smtp.port }, from: 'ck@example.org', to: ['ops@example.org'] },
    ],
  };
}

const offline = (t: TestApp, chargerId: string, over: Partial<Finding> = {}): Finding => ({
  id: 100, check: 'offline', chargerId, connectorId: null, severity: 'warning',
  message: `Charger ${chargerId} has not been heard from for 3 min`, state: 'active', since: t.clock.iso(), clearedAt: null, ...over,
});

async function alerts(t: TestApp, query = ''): Promise<Array<Record<string, any>>> { // any: API JSON
  return (await t.api('GET', `/alerts${query}`)).body;
}

describe('alerts: one problem = one alert', () => {
  it('turns a charger flapping 10 times in 2 minutes into one alert, not a notice per flap', async () => {
    const { hook } = await hookAndMail();
    t = await apps.start({ config: { plugins: { alerts: { channels: [{ name: 'hook', type: 'webhook', url: hook.url }] } } } });
    for (let i = 0; i < 10; i++) {
      t.app.bus.emit('finding.raised', offline(t, 'CP1', { id: i + 1 }));
      await eventually(async () => (await alerts(t!, '?state=open')).length === 1);
      await t.clock.advance(6_000);
      t.app.bus.emit('finding.cleared', { ...offline(t, 'CP1', { id: i + 1 }), state: 'cleared', clearedAt: t.clock.iso() });
      await eventually(async () => (await alerts(t!, '?state=open')).length === 0);
      await t.clock.advance(6_000);
    }
    await sleep(200);
    const all = await alerts(t);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ kind: 'offline', chargerId: 'CP1', state: 'resolved', count: 10 });
    expect(t.seen('alert.raised')).toHaveLength(1);
    // Raised, resolved, raised again - then silence while it keeps flapping.
    expect(hook.calls.map((c) => c.json.notice)).toEqual(['raised', 'resolved', 'raised']);
    // The resolved notice of a flapping alert waits until it stayed away for the flap window.
    await t.clock.advance(10 * 60_000);
    await eventually(() => hook.calls.length === 4);
    expect(hook.calls[3]!.json).toMatchObject({ notice: 'resolved', state: 'resolved' });
  });

  it('applies a raise, an update and a clear emitted back to back in that order, and ignores a late event about a cleared finding', async () => {
    const { hook } = await hookAndMail();
    t = await apps.start({ config: { plugins: { alerts: { channels: [{ name: 'hook', type: 'webhook', url: hook.url }] } } } });
    const f = offline(t, 'CP1', { id: 41 });
    t.app.bus.emit('finding.raised', f);
    t.app.bus.emit('finding.updated', { ...f, message: 'still offline', severity: 'critical' });
    t.app.bus.emit('finding.cleared', { ...f, state: 'cleared', clearedAt: t.clock.iso() });
    await eventually(async () => (await alerts(t!))[0]?.state === 'resolved');
    t.app.bus.emit('finding.updated', { ...f, message: 'late news' });
    await sleep(300);
    expect(await alerts(t)).toEqual([expect.objectContaining({ state: 'resolved', message: 'still offline', severity: 'critical', count: 2 })]);
    // A new occurrence (a new finding id) re-opens it.
    t.app.bus.emit('finding.raised', offline(t, 'CP1', { id: 42 }));
    await eventually(async () => (await alerts(t!))[0]?.state === 'open');
    expect(await alerts(t)).toHaveLength(1);
  });

  it('groups 20 chargers going offline together into one visible outage alert: the first charger told at once, then one outage notice and one all-clear', { timeout: 60_000 }, async () => {
    const { hook, smtp, channels } = await hookAndMail();
    t = await apps.start({ config: { plugins: { alerts: { channels } } } });
    const ids = Array.from({ length: 20 }, (_, i) => `CP${String(i + 1).padStart(2, '0')}`);
    const cps = await Promise.all(ids.map((id) => t!.chargePoint(id)));
    await Promise.all(cps.map((cp) => cp.close({ code: 1000 })));
    ids.forEach((id, i) => t!.app.bus.emit('finding.raised', offline(t!, id, { id: i + 1 })));

    // Nothing is hidden: every charger's alert is listed from the start, each saying which outage it is part of.
    await eventually(async () => {
      const list = await alerts(t!);
      return list.length === 21 && list.find((a) => a.kind === 'power-outage')?.chargers?.length === 20;
    });
    const list = await alerts(t);
    const outage = list.find((a) => a.kind === 'power-outage')!;
    expect(outage).toMatchObject({ chargerId: null, severity: 'critical', state: 'open', groupedInto: null });
    expect(outage.message).toContain('Site outage: 20 of 20 chargers offline, likely power or network');
    for (const id of ids) expect(outage.message).toContain(id);
    for (const a of list.filter((x) => x.kind === 'offline')) expect(a.groupedInto).toBe(outage.id);
    expect(t.seen('alert.raised')).toHaveLength(21);

    // The first charger's notice does not wait for the outage window.
    // Well inside the 60 s outage window (real time moves the appliance clock too): a loaded machine may need
    // seconds to load the mail library and open the first SMTP connection.
    await eventually(() => smtp.mails.length === 1 && hook.calls.length === 1, 20_000);
    expect(hook.calls[0]!.json).toMatchObject({ kind: 'offline', chargerId: 'CP01' });

    // Then one outage notice per channel naming every charger.
    await t.clock.advance(61_000);
    await eventually(() => smtp.mails.length === 2 && hook.calls.length === 2);
    await sleep(300);
    expect(smtp.mails).toHaveLength(2);
    expect(hook.calls).toHaveLength(2);
    expect(smtp.mails[1]!.subject).toContain('outage');
    expect(smtp.mails[1]!.text).toContain('Site outage: 20 of 20 chargers offline, likely power or network');
    expect(smtp.mails[1]!.text).toContain('CP20');
    expect(hook.calls[1]!.json).toMatchObject({ kind: 'power-outage', chargerId: null, chargers: ids });
    const detail = await t.api('GET', `/alerts/${outage.id}`);
    expect(detail.body.members).toHaveLength(20);

    // Power back: one all-clear per channel, none per charger.
    ids.forEach((id, i) => t!.app.bus.emit('finding.cleared', { ...offline(t!, id, { id: i + 1 }), state: 'cleared', clearedAt: t!.clock.iso() }));
    await eventually(() => smtp.mails.length === 3 && hook.calls.length === 3);
    expect(smtp.mails[2]!.subject).toContain('RESOLVED');
    expect(hook.calls[2]!.json).toMatchObject({ kind: 'power-outage', notice: 'resolved' });
    await eventually(async () => (await alerts(t!, '?state=open')).length === 0);
    await t.clock.advance(61_000);
    await sleep(300);
    expect(smtp.mails).toHaveLength(3);
    expect(hook.calls).toHaveLength(3);
  });

  it('leaves chargers in a maintenance window out of an outage: two more going offline are two alerts, not a power cut', async () => {
    const { hook } = await hookAndMail();
    t = await apps.start({ config: { plugins: { alerts: { channels: [{ name: 'hook', type: 'webhook', url: hook.url }] } } } });
    await Promise.all(['A', 'B', 'C', 'D'].map((id) => t!.chargePoint(id)));
    const until = new Date(t.clock.nowMs() + 2 * 3_600_000).toISOString();
    expect((await t.api('POST', '/alerts/maintenance', { body: { chargerId: 'A', until, reason: 'new RCD' } })).status).toBe(201);
    ['A', 'B', 'C'].forEach((id, i) => t!.app.bus.emit('finding.raised', offline(t!, id, { id: i + 1 })));
    await t.app.bus.idle();
    // Without the window these three would now be one power-outage alert.
    expect((await alerts(t)).map((a) => a.kind)).not.toContain('power-outage');
    await t.clock.advance(61_000);
    await eventually(() => hook.calls.length === 2);
    await sleep(300);
    // Three chargers went offline, but A was switched off on purpose: B and C are told one by one, A not at all.
    expect(hook.calls.map((c) => `${c.json.kind} ${c.json.chargerId}`).sort()).toEqual(['offline B', 'offline C']);
    expect((await alerts(t)).map((a) => a.kind)).not.toContain('power-outage');
  });

  it('keeps a single offline charger out of the outage and notifies it at once, on its own', async () => {
    const { hook } = await hookAndMail();
    t = await apps.start({ config: { plugins: { alerts: { channels: [{ name: 'hook', type: 'webhook', url: hook.url }] } } } });
    await Promise.all(['A', 'B', 'C', 'D'].map((id) => t!.chargePoint(id)));
    const raisedAt = Date.now();
    t.app.bus.emit('finding.raised', offline(t, 'A'));
    // Shown and told at once: no waiting for other chargers that might follow.
    await eventually(async () => (await alerts(t!)).length === 1, 500);
    await eventually(() => hook.calls.length === 1, 1500);
    expect(Date.now() - raisedAt).toBeLessThan(1500);
    expect(hook.calls[0]!.json).toMatchObject({ kind: 'offline', chargerId: 'A' });
    await t.clock.advance(61_000);
    await sleep(300);
    expect(hook.calls).toHaveLength(1);
    expect((await alerts(t)).map((a) => a.kind)).toEqual(['offline']);
  });
});

function berlinHHMM(ms: number): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(ms));
}

describe('alerts: quiet hours and maintenance', () => {
  it('holds a warning for a channel in quiet hours until they end, but lets a critical alert through', async () => {
    const { smtp, channels } = await hookAndMail();
    const now = Date.now();
    t = await apps.start({ config: { plugins: { alerts: {
      channels: [{ ...channels[1], quietHours: { from: berlinHHMM(now - 3_600_000), to: berlinHHMM(now + 3_600_000) } }],
    } } } });
    t.app.bus.emit('finding.raised', { ...offline(t, 'CP1'), check: 'connector-fault', connectorId: 1, severity: 'warning' });
    await eventually(async () => (await t!.api('GET', '/alerts/deliveries')).body[0]?.nextAttemptAt > new Date(t!.clock.nowMs() + 30 * 60_000).toISOString());
    t.app.bus.emit('finding.raised', { ...offline(t, 'CP2'), check: 'connector-fault', connectorId: 1, severity: 'critical' });
    await eventually(() => smtp.mails.length === 1);
    expect(smtp.mails[0]!.text).toContain('CP2');
    await t.clock.advance(30 * 60_000);
    await sleep(200);
    expect(smtp.mails).toHaveLength(1);
    await t.clock.advance(31 * 60_000);
    await eventually(() => smtp.mails.length === 2);
    expect(smtp.mails[1]!.text).toContain('CP1');
  });

  it('mutes a charger in a maintenance window and notifies once the window ends', async () => {
    const { hook } = await hookAndMail();
    t = await apps.start({ config: { plugins: { alerts: { channels: [{ name: 'hook', type: 'webhook', url: hook.url }] } } } });
    const until = new Date(t.clock.nowMs() + 2 * 3_600_000).toISOString();
    const created = await t.api('POST', '/alerts/maintenance', { body: { chargerId: 'CP1', until, reason: 'replacing the cable' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ chargerId: 'CP1', until, reason: 'replacing the cable', createdBy: 'admin', active: true });
    const bad = await t.api('POST', '/alerts/maintenance', { body: { chargerId: 'CP1', until: 'tomorrow' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('until');

    t.app.bus.emit('finding.raised', { ...offline(t, 'CP1'), check: 'connector-fault', connectorId: 1 });
    t.app.bus.emit('finding.raised', { ...offline(t, 'CP2'), check: 'connector-fault', connectorId: 1 });
    await eventually(() => hook.calls.length === 1);
    await sleep(200);
    expect(hook.calls.map((c) => c.json.chargerId)).toEqual(['CP2']);
    expect((await alerts(t)).map((a) => a.chargerId).sort()).toEqual(['CP1', 'CP2']);
    expect((await t.api('GET', '/alerts/maintenance')).body).toEqual([expect.objectContaining({ id: created.body.id, chargerId: 'CP1' })]);

    await t.clock.advance(2 * 3_600_000 + 60_000);
    await eventually(() => hook.calls.length === 2);
    expect(hook.calls[1]!.json.chargerId).toBe('CP1');

    // Ending a window early un-mutes at once.
    const again = await t.api('POST', '/alerts/maintenance', { body: { chargerId: 'CP3', until: new Date(t.clock.nowMs() + 3_600_000).toISOString() } });
    t.app.bus.emit('finding.raised', { ...offline(t, 'CP3'), check: 'connector-fault', connectorId: 1 });
    await sleep(200);
    expect(hook.calls).toHaveLength(2);
    expect((await t.api('DELETE', `/alerts/maintenance/${again.body.id}`)).status).toBe(204);
    await eventually(() => hook.calls.length === 3);
    expect(hook.calls[2]!.json.chargerId).toBe('CP3');
  });
});

describe('alerts: from core events', () => {
  it('raises an info alert for a charger waiting for approval and a warning for a refused one, and resolves them', async () => {
    const { hook } = await hookAndMail();
    t = await apps.start({ config: { ocpp: { unknownChargers: 'pending' }, plugins: { alerts: { channels: [{ name: 'hook', type: 'webhook', url: hook.url }] } } } });
    const cp = await t.chargePoint('NEW1');
    await eventually(() => hook.calls.length === 1);
    expect(hook.calls[0]!.json).toMatchObject({ kind: 'charger-pending', severity: 'info', chargerId: 'NEW1', state: 'open' });
    await cp.close({ code: 1000 });
    expect((await t.api('POST', '/chargers/NEW1/approve')).status).toBe(200);
    await eventually(async () => (await alerts(t!, '?state=resolved')).length === 1);

    await t.api('PATCH', '/chargers/NEW1', { body: { password: 'right-password-1' } });
    await expect(t.chargePoint('NEW1', { password: 'wrong-password-1' })).rejects.toThrow();
    await eventually(async () => (await alerts(t!, '?state=open')).length === 1);
    const [rejected] = await alerts(t, '?state=open');
    expect(rejected).toMatchObject({ kind: 'charger-rejected', severity: 'warning', chargerId: 'NEW1' });
    expect(rejected!.message).toContain('wrong password');
    await t.chargePoint('NEW1', { password: 'right-password-1' });
    await eventually(async () => (await alerts(t!, '?state=open')).length === 0);
  });

  it('raises one alert for a plugin that keeps failing, which an operator resolves by hand', async () => {
    const { hook } = await hookAndMail();
    t = await apps.start({ config: { plugins: { alerts: { channels: [{ name: 'hook', type: 'webhook', url: hook.url }] } } } });
    for (let i = 0; i < 3; i++) t.app.bus.emit('plugin.failed', { plugin: 'billing', hook: 'job:invoices', error: 'disk full', at: t.clock.iso() });
    await eventually(async () => (await alerts(t!))[0]?.count === 3);
    const [failed] = await alerts(t);
    expect(failed).toMatchObject({ kind: 'plugin-failed', severity: 'warning', chargerId: null, state: 'open' });
    expect(failed!.message).toContain('billing failed in job:invoices: disk full');
    expect(hook.calls).toHaveLength(1);
    const done = await t.api('POST', `/alerts/${failed!.id}/resolve`);
    expect(done.body).toMatchObject({ state: 'resolved' });
    await eventually(() => hook.calls.length === 2);
    expect(hook.calls[1]!.json).toMatchObject({ notice: 'resolved', kind: 'plugin-failed' });
  });
});
