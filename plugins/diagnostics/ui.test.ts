import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, skipBrowser, type TestApp, type TestChargePoint, useApp, useBrowser } from '../../tests/kit/index.js';

const SLOW = 60_000;

describe.skipIf(skipBrowser('diagnostics'))('diagnostics page in Chromium', () => {
  let app: TestApp;
  const apps = useApp();
  const browser = useBrowser();
  let page: Page;
  let cp: TestChargePoint;
  const problems: string[] = [];

  beforeAll(async () => {
    app = await apps.start({ config: { plugins: { diagnostics: {} } } });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`); });
  }, SLOW);


  it('shows an active finding in words with its likely cause and action, and drops it live when the fault clears', async () => {
    cp = await app.chargePoint('CP1');
    await cp.boot();
    await cp.call('StatusNotification', { connectorId: 1, status: 'Faulted', errorCode: 'GroundFailure' });

    await page.goto(app.url);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    expect(await page.evaluate(() => localStorage.getItem('chargekeeper.token'))).toBeTruthy();

    await page.getByRole('link', { name: 'Diagnostics' }).click();
    await page.getByRole('heading', { name: 'Diagnostics', level: 1 }).waitFor();
    const finding = page.getByTestId('finding').filter({ hasText: 'ground fault' });
    await finding.waitFor();
    const text = await finding.innerText();
    expect(text).toMatch(/critical/i);
    expect(text).toContain('CP1 · connector 1');
    expect(text).toContain('Connector 1 of CP1 is faulted: ground fault (GroundFailure).');
    expect(text).toMatch(/Likely cause\s+current leaking to earth/i);
    expect(text).toMatch(/What to do\s+Do not use the connector/i);
    expect(text).toMatch(/since/);
    expect(await finding.evaluate((el) => getComputedStyle(el).borderLeftColor)).toBe('rgb(185, 28, 28)');

    const row = page.locator('[data-testid="health-row"][data-charger="CP1"]');
    await row.waitFor();
    expect(await row.locator('svg rect[data-state]').count()).toBeGreaterThan(0);
    await row.getByRole('button', { name: 'CP1' }).click();
    await page.getByRole('img', { name: 'Availability per day, last 30 days' }).waitFor();

    await row.getByRole('button', { name: 'Run diagnostics now' }).click();
    await page.getByTestId('probe').filter({ hasText: 'CP1' }).first().waitFor();

    await cp.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });
    await page.getByTestId('no-findings').waitFor({ timeout: 10_000 });
    await page.getByRole('cell', { name: /ground fault/ }).waitFor();
    expect(problems).toEqual([]);
  }, SLOW);
});
