import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, eventually, skipBrowser, type TestApp, useApp, useBrowser } from '../../tests/kit/index.js';

const SLOW = 60_000;
const shots = join(import.meta.dirname, 'screenshots');
const site = fileURLToPath(new URL('./fixtures/', import.meta.url));

describe.skipIf(skipBrowser('chargermodels'))('charger models page in Chromium', () => {
  let app: TestApp;
  const apps = useApp();
  const browser = useBrowser();
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    app = await apps.start({ config: { plugins: { chargermodels: { dir: site } } } });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`); });
  }, SLOW);

  it('shows a charger\'s entry, each key with its answer and its known bug, and sends the settings again', async () => {
    const cp = await app.chargePoint('UI1');
    const calls: string[] = [];
    cp.handle('ChangeConfiguration', ({ params }) => {
      calls.push(params.key);
      return { status: params.key === 'WebSocketPingInterval' ? 'Rejected' : 'Accepted' };
    });
    await cp.boot({ chargePointVendor: 'TestVendor', chargePointModel: 'TM-1', firmwareVersion: '1.2' });
    await eventually(() => calls.length === 3);

    await page.goto(app.url);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.getByRole('link', { name: 'Charger models' }).click();
    await page.getByRole('heading', { name: 'Charger models', level: 1 }).waitFor();

    const row = page.getByTestId('chargermodels-chargers').getByRole('row').filter({ hasText: 'UI1' });
    await row.filter({ hasText: 'testvendor-tm1' }).waitFor();
    expect(await row.innerText()).toContain('3 / 4');
    await row.click();
    const bug = page.getByTestId('known-bug');
    await bug.waitFor();
    expect(await bug.innerText()).toContain('Forgets its running session after a power cut.');
    const keys = await page.locator('.keys').innerText();
    expect(keys).toMatch(/MeterValueSampleInterval = 60\s*Accepted/);
    expect(keys).toMatch(/WebSocketPingInterval = 30\s*Rejected/);
    expect(keys).toMatch(/AuthorizeRemoteTxRequests = true\s*Skipped/);

    await page.getByTestId('chargermodels-apply').click();
    await eventually(() => calls.length === 6);
    expect(calls.slice(3)).toEqual(calls.slice(0, 3));
    await page.getByTestId('chargermodels-catalogue').getByRole('cell', { name: /KEBA KeContact P30/ }).waitFor();
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'chargermodels.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, SLOW);
});
