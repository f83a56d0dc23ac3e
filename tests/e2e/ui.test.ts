import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startApp, type TestApp, type TestChargePoint } from '../harness.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';
const repo = join(import.meta.dirname, '..', '..');
const shots = join(import.meta.dirname, 'screenshots');

if (!hasChromium && !inCi) {
  console.warn(
    `\n\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n` +
    `!!  Browser end-to-end tests SKIPPED: ${CHROMIUM} is missing.\n` +
    `!!  Install it: apt-get install -y --no-install-recommends chromium\n` +
    `!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n`,
  );
}

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const now = () => new Date().toISOString();

// In CI a missing Chromium is a failure (beforeAll throws), never a skip.
describe.skipIf(!hasChromium && !inCi)('web UI in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let desktop: BrowserContext;
  let page: Page;
  let cp: TestChargePoint;
  const problems: string[] = [];
  const commandsSeen: string[] = [];

  function watch(p: Page, label: string) {
    p.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`${label} console error: ${msg.text()}`);
    });
    p.on('pageerror', (err) => problems.push(`${label} page error: ${err.message}`));
  }

  async function signIn(p: Page) {
    await p.goto(app.url);
    await p.getByLabel('Username').fill('admin');
    await p.getByLabel('Password').fill(ADMIN_PASSWORD);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Dashboard' }).waitFor();
  }

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`${CHROMIUM} is missing: the CI image must install chromium`);
    execFileSync(process.execPath, [join(repo, 'scripts', 'build-ui.mjs')], { cwd: repo, stdio: 'inherit' });
    mkdirSync(shots, { recursive: true });
    app = await startApp({ config: { plugins: { blueprint: {} } } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    desktop = await browser.newContext({ viewport: DESKTOP });
    page = await desktop.newPage();
    watch(page, 'desktop');
  }, 60_000);

  afterEach(() => {
    expect(problems, 'the browser logged errors').toEqual([]);
  });

  afterAll(async () => {
    // The browser goes first so its event stream does not see the server vanish.
    await browser?.close();
    await app?.stop();
  });

  it('signs in through the login form', async () => {
    await page.goto(app.url);
    await page.getByRole('heading', { name: 'ChargeKeeper' }).waitFor();
    await expect.poll(() => page.getByText(/Version \d/).count()).toBe(1);
    await page.screenshot({ path: join(shots, 'desktop-login.png') });
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.getByText('No chargers yet').waitFor();
    expect(await page.evaluate(() => localStorage.getItem('chargekeeper.token'))).toBeTruthy();
    await page.locator('.stream-open >> visible=true').waitFor();
  });

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
  });

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
  });

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
    await expect.poll(() => session.locator('[data-metric="power"]').innerText()).toBe('6.9 kW');
    await expect.poll(() => session.locator('[data-metric="energy"]').innerText()).toBe('0.60 kWh');
    await page.locator('[data-status="Charging"]').first().waitFor();
    await page.screenshot({ path: join(shots, 'desktop-charger.png'), fullPage: true });

    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.locator('[data-charger="CP1"] [data-status="Charging"]').waitFor();
    expect(await page.locator('[data-stat="charging"]').innerText()).toBe('1');
  });

  it('lists the running session on the transactions page, in kWh', async () => {
    await page.getByRole('link', { name: 'Transactions' }).click();
    const row = page.locator('tr[data-transaction]').first();
    await row.waitFor();
    await row.getByText('Running').waitFor();
    await row.getByText('TAG-E2E').waitFor();
    await page.screenshot({ path: join(shots, 'desktop-transactions.png') });
  });

  it('slots the blueprint plugin page into the navigation', async () => {
    await page.getByRole('link', { name: 'Blueprint' }).click();
    await page.getByRole('heading', { name: 'Blueprint plugin page' }).waitFor();
    await expect.poll(() => page.getByTestId('blueprint-hello').innerText()).toMatch(/hello from Test Site/);
    await page.getByRole('link', { name: 'Plugins' }).click();
    await page.locator('[data-plugin="blueprint"]').getByText('running').waitFor();
    await page.screenshot({ path: join(shots, 'desktop-plugins.png') });
  });

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
      await expect.poll(() => row.locator('td[data-label="Energy"]').innerText()).toBe('0.60 kWh');
      await p.screenshot({ path: join(shots, 'phone-transactions.png') });

      await p.goto(`${app.url}/#/chargers/CP1`);
      await p.getByRole('heading', { name: 'CP1', level: 1 }).waitFor();
      // This page opened after the meter values arrived: it reads them from the stored session.
      const session = p.locator('section[data-transaction]');
      await expect.poll(() => session.locator('[data-metric="energy"]').innerText()).toBe('0.60 kWh');
      await session.locator('svg[role="img"]').waitFor();
      expect(await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      await p.screenshot({ path: join(shots, 'phone-charger.png'), fullPage: true });
    } finally {
      await phone.close();
    }
  });
});
