import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, launchBrowser, signIn, skipBrowser, startApp, type TestApp, watchErrors } from '../../tests/kit/index.js';

describe.skipIf(skipBrowser('alerts'))('alerts page in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let hook: Server;
  const received: unknown[] = [];

  beforeAll(async () => {
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d; });
      req.on('end', () => { received.push(JSON.parse(body || 'null')); res.end('ok'); });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    t = await startApp({ config: { plugins: { alerts: { channels: [{ name: 'ops-hook', type: 'webhook', url }] } } } });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(10_000);
    problems = watchErrors(page);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    await new Promise((r) => hook?.close(r));
  });

  it('shows an open alert with its words and acknowledges it with one click', async () => {
    const now = t.clock.iso();
    t.app.bus.emit('finding.raised', {
      id: 1, check: 'connector-fault', chargerId: 'CP7', connectorId: 1, severity: 'critical',
      message: 'Connector 1 of CP7 reports a ground fault', action: 'Check the cable and the RCD', state: 'active', since: now, clearedAt: null,
    });
    await eventually(() => received.length > 0, 10_000);
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
    const before = received.length;
    t.app.bus.emit('finding.raised', {
      id: 2, check: 'offline', chargerId: 'CP8', connectorId: null, severity: 'critical',
      message: 'CP8 is offline', action: 'Check its power and network', state: 'active', since: t.clock.iso(), clearedAt: null,
    });
    await eventually(() => received.length > before, 10_000);
    const { ackUrl, id } = received[received.length - 1] as { ackUrl: string; id: number };
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
