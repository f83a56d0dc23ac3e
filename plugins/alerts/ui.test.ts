import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Receiver, signIn, skipBrowser, type TestApp, useApp, useBrowser, usePeers, watchErrors } from '../../tests/kit/index.js';

describe.skipIf(skipBrowser('alerts'))('alerts page in Chromium', () => {
  let t: TestApp;
  const peers = usePeers();
  // Registered after the peers so that it runs first: the app stops before the webhook it calls.
  const apps = useApp();
  const browser = useBrowser();
  let page: Page;
  let problems: string[];
  let hook: Receiver;

  beforeAll(async () => {
    hook = await peers.receiver();
    const url = `${hook.url}/hook`;
    t = await apps.start({ config: { plugins: { alerts: { channels: [{ name: 'ops-hook', type: 'webhook', url }] } } } });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(10_000);
    problems = watchErrors(page);
  }, 60_000);


  it('shows an open alert with its words and acknowledges it with one click', async () => {
    const now = t.clock.iso();
    t.app.bus.emit('finding.raised', {
      id: 1, check: 'connector-fault', chargerId: 'CP7', connectorId: 1, severity: 'critical',
      message: 'Connector 1 of CP7 reports a ground fault', action: 'Check the cable and the RCD', state: 'active', since: now, clearedAt: null,
    });
    await eventually(() => hook.calls.length > 0, 10_000);
    await signIn(page, t.url);
    await page.getByRole('link', { name: 'Alerts' }).click();
    await page.getByRole('heading', { name: 'Alerts' }).waitFor();
    await page.getByText('ground fault').first().waitFor();
    await page.screenshot({ path: join(import.meta.dirname, '..', '..', 'tests', 'e2e', 'screenshots', 'desktop-alerts.png'), fullPage: true });
    await page.getByRole('button', { name: 'Acknowledge' }).first().click();
    await eventually(async () => (await t.api('GET', '/alerts?state=acknowledged')).body.length === 1, 10_000);
    expect((await t.api('GET', '/audit?action=alert')).body[0]).toMatchObject({ actor: 'admin' });
    expect(problems).toEqual([]);
  }, 60_000);

  it('acknowledges from the link in a message only once the button on its page is pressed', async () => {
    const before = hook.calls.length;
    t.app.bus.emit('finding.raised', {
      id: 2, check: 'offline', chargerId: 'CP8', connectorId: null, severity: 'critical',
      message: 'CP8 is offline', action: 'Check its power and network', state: 'active', since: t.clock.iso(), clearedAt: null,
    });
    await eventually(() => hook.calls.length > before, 10_000);
    const { ackUrl, id } = hook.calls[hook.calls.length - 1]!.json as { ackUrl: string; id: number };
    const phone = await (await browser.newContext({ viewport: { width: 390, height: 760 } })).newPage();
    const phoneProblems = watchErrors(phone);
    await phone.goto(ackUrl);
    await phone.getByRole('heading', { name: `Acknowledge alert #${id}?` }).waitFor();
    await phone.screenshot({ path: join(import.meta.dirname, '..', '..', 'tests', 'e2e', 'screenshots', 'phone-alert-ack-link.png') });
    expect((await t.api('GET', `/alerts/${id}`)).body).toMatchObject({ state: 'open' });
    await phone.getByRole('button', { name: 'Acknowledge' }).click();
    await phone.getByRole('heading', { name: 'Acknowledged' }).waitFor();
    expect((await t.api('GET', `/alerts/${id}`)).body).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'link:ops-hook' });
    expect(phoneProblems).toEqual([]);
  }, 60_000);
});
