import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Accounts } from '../../core/accounts.js';
import { ADMIN_PASSWORD, signIn as signInAs, skipBrowser, type TestApp, type TestChargePoint, useApp, useBrowser } from '../kit/index.js';

const shots = join(import.meta.dirname, 'screenshots');

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const now = () => new Date().toISOString();
// The machine may be busy: give live updates time to arrive.
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 10_000, interval: 50 });
const SLOW = 90_000;

describe.skipIf(skipBrowser('web UI'))('web UI in Chromium', () => {
  let app: TestApp;
  const apps = useApp();
  const browser = useBrowser();
  let desktop: BrowserContext;
  let page: Page;
  let cp: TestChargePoint;
  const problems: string[] = [];
  const commandsSeen: string[] = [];
  // HTTP statuses a test provokes on purpose; Chromium logs each failed fetch as a console error.
  const expectedStatuses = new Set<number>();

  function watch(p: Page, label: string) {
    p.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const status = /status of (\d{3})/.exec(msg.text());
      if (status && expectedStatuses.has(Number(status[1]))) return;
      problems.push(`${label} console error: ${msg.text()}`);
    });
    p.on('pageerror', (err) => problems.push(`${label} page error: ${err.message}`));
  }

  const signIn = (p: Page, username = 'admin', password = ADMIN_PASSWORD, heading = 'Dashboard') => signInAs(p, app.url, username, password, heading);

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    app = await apps.start({ config: { plugins: { blueprint: {} } } });
    desktop = await browser.newContext({ viewport: DESKTOP });
    page = await desktop.newPage();
    watch(page, 'desktop');
  }, 60_000);

  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      const name = task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
      await page?.screenshot({ path: join(shots, `failed-${name}.png`) }).catch(() => undefined);
    });
  });

  afterEach(() => {
    expect(problems, 'the browser logged errors').toEqual([]);
  });

  it('signs in through the login form', async () => {
    await page.goto(app.url);
    await page.getByRole('heading', { name: 'ChargeKeeper' }).waitFor();
    await poll(() => page.getByText(/Version \d/).count()).toBe(1);
    await page.screenshot({ path: join(shots, 'desktop-login.png') });
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.getByText('No chargers yet').waitFor();
    expect(await page.evaluate(() => localStorage.getItem('chargekeeper.token'))).toBeTruthy();
    await page.locator('.stream-open >> visible=true').waitFor();
  }, SLOW);

  it('tells someone guessing passwords to wait, in words', async () => {
    for (const status of [401, 429]) expectedStatuses.add(status);
    // A context of its own: the admin's token in this browser's storage would skip the login form.
    const guesser = await (await browser.newContext({ viewport: DESKTOP })).newPage();
    watch(guesser, 'guesser');
    try {
      await guesser.goto(app.url);
      for (let i = 0; i < 6; i++) {
        await guesser.getByLabel('Username').fill('mallory');
        await guesser.getByLabel('Password').fill(`guess-${i}`);
        await guesser.getByRole('button', { name: 'Sign in' }).click();
        await guesser.getByRole('alert').filter({ hasText: i < 5 ? 'Wrong username or password.' : /Too many failed logins\. Try again in \d+ seconds\./ }).waitFor();
        await guesser.getByRole('button', { name: 'Sign in' }).and(guesser.locator(':enabled')).waitFor();
      }
    } finally {
      await guesser.context().close();
      expectedStatuses.clear();
    }
  }, SLOW);

  it('shows a charger that connects after the page opened, without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    cp = await app.chargePoint('CP1');
    cp.handle('TriggerMessage', ({ params }: { params: { requestedMessage: string } }) => {
      commandsSeen.push(`TriggerMessage:${params.requestedMessage}`);
      return { status: 'Accepted' };
    });
    cp.handle('Reset', ({ params }: { params: { type: string } }) => {
      commandsSeen.push(`Reset:${params.type}`);
      return { status: 'Accepted' };
    });
    await cp.boot();
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: now() });
    await cp.call('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: 'Available', timestamp: now() });

    const card = page.locator('[data-charger="CP1"]');
    await card.waitFor();
    await card.locator('[data-status="Available"]').first().waitFor();
    await card.getByText('TestVendor TestModel').waitFor();
    expect(await page.locator('[data-stat="online"]').innerText()).toMatch(/^1\s*\/\s*1$/);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    await page.screenshot({ path: join(shots, 'desktop-dashboard.png') });
  }, SLOW);

  it('opens the charger page and shows the reply to a command', async () => {
    await page.locator('[data-charger="CP1"]').getByRole('link', { name: 'CP1' }).click();
    await page.getByRole('heading', { name: 'CP1', level: 1 }).waitFor();
    await page.getByText('SN-CP1').waitFor();

    const form = page.locator('section', { has: page.getByRole('heading', { name: 'Send command' }) });
    await form.getByLabel('Action').selectOption('TriggerMessage');
    await form.getByLabel('Payload (JSON)').fill('{ "requestedMessage": "Heartbeat" }');
    await form.getByRole('button', { name: 'Send TriggerMessage' }).click();
    const reply = form.getByTestId('command-response');
    await reply.waitFor();
    expect(JSON.parse(await reply.innerText())).toEqual({ status: 'Accepted' });
    expect(commandsSeen).toContain('TriggerMessage:Heartbeat');

    await page.getByRole('button', { name: 'Soft reset' }).click();
    await page.getByText(/Reset:\s*Accepted/).waitFor();
    expect(commandsSeen).toContain('Reset:Soft');

    // Rename, then clear the name again.
    const name = page.getByLabel('Display name');
    await name.fill('Garage left');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByRole('heading', { name: 'Garage left', level: 1 }).waitFor();
    await name.fill('');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByRole('heading', { name: 'CP1', level: 1 }).waitFor();
  }, SLOW);

  it('turns the connector badge blue when the charger reports Charging, live', async () => {
    const connector = page.locator('[data-connector="1"]');
    await connector.locator('[data-status="Available"]').waitFor();
    const start = await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing', timestamp: now() });
    expect(start).toEqual({});
    await connector.locator('[data-status="Preparing"]').waitFor();
    const base = Date.now() - 5 * 60_000;
    const tx = (await cp.call('StartTransaction', {
      connectorId: 1, idTag: 'TAG-E2E', meterStart: 10_000, timestamp: new Date(base - 30_000).toISOString(),
    })) as { transactionId: number };
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: now() });
    const badge = connector.locator('[data-status="Charging"]');
    await badge.waitFor();
    expect(await badge.evaluate((el) => el.classList.contains('tone-blue'))).toBe(true);

    // A few meter values draw the power chart.
    for (const [i, w] of [3600, 7100, 7300, 7200, 7250, 6900].entries()) {
      await cp.call('MeterValues', {
        connectorId: 1,
        transactionId: tx.transactionId,
        meterValue: [{
          timestamp: new Date(base + i * 60_000).toISOString(),
          sampledValue: [
            { value: String(w), measurand: 'Power.Active.Import', unit: 'W' },
            { value: String(10_000 + i * 120), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
          ],
        }],
      });
    }
    const session = page.locator(`[data-transaction="${tx.transactionId}"]`);
    await session.waitFor();
    await poll(() => session.locator('[data-metric="power"]').innerText()).toBe('6.9 kW');
    await poll(() => session.locator('[data-metric="energy"]').innerText()).toBe('0.60 kWh');
    await page.locator('[data-status="Charging"]').first().waitFor();
    await page.screenshot({ path: join(shots, 'desktop-charger.png'), fullPage: true });

    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.locator('[data-charger="CP1"] [data-status="Charging"]').waitFor();
    expect(await page.locator('[data-stat="charging"]').innerText()).toBe('1');
  }, SLOW);

  it('lists the running session on the transactions page, in kWh', async () => {
    await page.getByRole('link', { name: 'Transactions' }).click();
    const row = page.locator('tr[data-transaction]').first();
    await row.waitFor();
    await row.getByText('Running').waitFor();
    await row.getByText('TAG-E2E').waitFor();
    await page.screenshot({ path: join(shots, 'desktop-transactions.png') });
  }, SLOW);

  it('slots the blueprint plugin page into the navigation', async () => {
    await page.getByRole('link', { name: 'Blueprint' }).click();
    await page.getByRole('heading', { name: 'Blueprint plugin page' }).waitFor();
    await poll(() => page.getByTestId('blueprint-hello').innerText()).toMatch(/hello from Test Site/);
    await page.getByRole('link', { name: 'Plugins' }).click();
    await page.locator('[data-plugin="blueprint"]').getByText('running').waitFor();
    await page.screenshot({ path: join(shots, 'desktop-plugins.png') });
    // Its settings open on the Settings page, laid out by its config schema, the default as the placeholder.
    await page.locator('[data-settings="blueprint"]').click();
    await page.getByRole('heading', { name: 'Blueprint', exact: true }).waitFor();
    await expect.poll(() => page.getByLabel(/^Greeting/).getAttribute('placeholder')).toBe('default: hello');
    await page.getByRole('link', { name: 'Plugins' }).click();
    // The admin's backup button there downloads the database.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download backup' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^chargekeeper-backup-.*\.sqlite$/);
    const saved = join(shots, 'backup.sqlite');
    await download.saveAs(saved);
    expect(readFileSync(saved).subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');
    rmSync(saved);
  }, SLOW);

  it('works on a 390 px phone screen', async () => {
    const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const p = await phone.newPage();
    watch(p, 'phone');
    try {
      await p.goto(app.url);
      await p.getByLabel('Username').waitFor();
      await p.screenshot({ path: join(shots, 'phone-login.png') });
      await signIn(p);
      await p.locator('[data-charger="CP1"] [data-status="Charging"]').waitFor();
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, 'page wider than the phone screen').toBeLessThanOrEqual(0);
      await p.screenshot({ path: join(shots, 'phone-dashboard.png') });

      await p.getByRole('button', { name: 'Open menu' }).click();
      await p.getByRole('link', { name: 'Transactions' }).waitFor();
      await p.screenshot({ path: join(shots, 'phone-menu.png') });
      await p.getByRole('link', { name: 'Transactions' }).click();
      const row = p.locator('tr[data-transaction]').first();
      await poll(() => row.locator('td[data-label="Energy"]').innerText()).toBe('0.60 kWh');
      await p.screenshot({ path: join(shots, 'phone-transactions.png') });

      await p.goto(`${app.url}/#/chargers/CP1`);
      await p.getByRole('heading', { name: 'CP1', level: 1 }).waitFor();
      // This page opened after the meter values arrived: it reads them from the stored session.
      const session = p.locator('section[data-transaction]');
      await poll(() => session.locator('[data-metric="energy"]').innerText()).toBe('0.60 kWh');
      await session.locator('svg[role="img"]').waitFor();
      expect(await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      await p.screenshot({ path: join(shots, 'phone-charger.png'), fullPage: true });
    } finally {
      await phone.close();
    }
  }, SLOW);

  it('gives a driver only charger availability and their own sessions', async () => {
    await new Accounts(app.app.db, app.clock, 3_600_000).create({
      username: 'dana', name: 'Dana Driver', role: 'driver', password: 'driver-pw-123',
    });
    const ctx = await browser.newContext({ viewport: DESKTOP });
    const p = await ctx.newPage();
    watch(p, 'driver');
    try {
      await signIn(p, 'dana', 'driver-pw-123', 'Charger availability');
      const nav = p.getByRole('navigation', { name: 'Main' });
      expect((await nav.getByRole('link').allInnerTexts()).map((t) => t.trim())).toEqual(['Chargers', 'My sessions']);
      const card = p.locator('[data-charger="CP1"]');
      await card.locator('[data-status="Charging"]').waitFor();
      expect(await card.getByRole('link').count(), 'drivers get no charger page').toBe(0);
      await p.screenshot({ path: join(shots, 'desktop-driver.png') });
      await nav.getByRole('link', { name: 'My sessions' }).click();
      await p.getByText('No transactions yet').waitFor();
    } finally {
      await ctx.close();
    }
  }, SLOW);

  it('explains why a command failed: bad JSON, bad payload, CALLERROR, offline', async () => {
    for (const status of [400, 409, 502]) expectedStatuses.add(status);
    try {
      await page.evaluate(() => (location.hash = '#/chargers/CP1'));
      const form = page.locator('section', { has: page.getByRole('heading', { name: 'Send command' }) });
      await form.getByLabel('Action').selectOption('Reset');
      const send = form.getByRole('button', { name: 'Send Reset' });

      await form.getByLabel('Payload (JSON)').fill('{ "type": ');
      await send.click();
      await form.getByText(/Not valid JSON/).waitFor();

      await form.getByLabel('Payload (JSON)').fill('{ "type": "Medium" }');
      await send.click();
      const alert = form.locator('[data-state="error"]');
      await alert.getByText(/invalid payload/).waitFor();
      expect(await alert.locator('li').count()).toBeGreaterThan(0);
      expect(await alert.innerText()).toContain('type');
      await form.screenshot({ path: join(shots, 'desktop-command-error.png') });

      // The test charge point has no ClearCache handler: ocpp-rpc answers NotImplemented.
      await form.getByLabel('Action').selectOption('ClearCache');
      await form.getByRole('button', { name: 'Send ClearCache' }).click();
      await alert.getByText(/CALLERROR/).waitFor();
      expect(await alert.innerText()).toContain('NotImplemented');

      const cp2 = await app.chargePoint('CP2');
      await cp2.boot();
      await page.evaluate(() => (location.hash = '#/'));
      await page.locator('[data-charger="CP2"]').getByText('Online').waitFor();
      await cp2.close({ code: 1000 });
      await page.locator('[data-charger="CP2"]').getByText('Offline', { exact: true }).waitFor();
      await page.locator('[data-charger="CP2"]').getByRole('link', { name: 'CP2' }).click();
      const form2 = page.locator('section', { has: page.getByRole('heading', { name: 'Send command' }) });
      await form2.getByRole('button', { name: /^Send / }).click();
      await form2.locator('[data-state="error"]').getByText(/The charger is offline/).waitFor();
      await form2.screenshot({ path: join(shots, 'desktop-command-offline.png') });
    } finally {
      expectedStatuses.clear();
    }
  }, SLOW);

  it('lets an admin approve a pending charger from the dashboard', async () => {
    const site = await apps.start({ config: { ocpp: { unknownChargers: 'pending' } } });
    const ctx = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const p = await ctx.newPage();
    watch(p, 'pending-site');
    try {
      await p.goto(site.url);
      await p.getByLabel('Username').fill('admin');
      await p.getByLabel('Password').fill(ADMIN_PASSWORD);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByText('No chargers yet').waitFor();
      const cp9 = await site.chargePoint('CP9');
      cp9.handle('TriggerMessage', () => ({ status: 'Accepted' }));
      expect((await cp9.boot()).status).toBe('Pending');
      const card = p.locator('[data-charger="CP9"]');
      await card.getByText('Pending approval').waitFor();
      await p.screenshot({ path: join(shots, 'phone-pending.png') });
      await card.getByRole('button', { name: 'Approve' }).click();
      await card.getByText('Pending approval').waitFor({ state: 'detached' });
      const res = await site.api<Array<{ id: string; approved: boolean }>>('GET', '/chargers');
      expect(res.body.find((c) => c.id === 'CP9')?.approved).toBe(true);

      // From the charger's page, with a password: the charger must come back with it.
      const cp10 = await site.chargePoint('CP10');
      expect((await cp10.boot()).status).toBe('Pending');
      const closed = new Promise<void>((resolve) => cp10.once('close', () => resolve()));
      await p.evaluate(() => (location.hash = '#/chargers/CP10'));
      await p.getByLabel(/Charger password to set with the approval/).fill('garage-secret');
      await p.getByRole('button', { name: 'Approve' }).click();
      await p.getByText('Pending approval').waitFor({ state: 'detached' });
      await closed;
      const detail = await site.api<{ approved: boolean; hasPassword: boolean }>('GET', '/chargers/CP10');
      expect(detail.body).toMatchObject({ approved: true, hasPassword: true });
      const back = await site.chargePoint('CP10', { password: 'garage-secret' });
      expect((await back.boot()).status).toBe('Accepted');
    } finally {
      await ctx.close();
      await site.stop();
    }
  }, SLOW);
});
