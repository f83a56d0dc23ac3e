import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { eventually, signIn, skipBrowser, useApp, useBrowser, watchErrors } from '../kit/index.js';

const shots = join(import.meta.dirname, 'screenshots');
const SLOW = 90_000;

describe.skipIf(skipBrowser('settings'))('Settings page in Chromium', () => {
  const apps = useApp();
  const browser = useBrowser();

  async function open(): Promise<{ page: Page; problems: string[]; t: Awaited<ReturnType<typeof apps.start>> }> {
    const t = await apps.start({
      config: {
        plugins: {
          users: {}, blueprint: { greeting: 'hello' },
          alerts: { channels: [{ name: 'phone', type: 'webhook', url: 'http://127.0.0.1:9/hooks/s3cr3t-path' }] },
        },
      },
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // A refused value answers 400 on purpose.
    const problems = watchErrors(page, [400]);
    page.on('dialog', (d) => void d.accept());
    await signIn(page, t.url);
    await page.goto(`${t.url}/#/settings`);
    await page.getByRole('heading', { name: 'Settings', exact: true }).waitFor();
    mkdirSync(shots, { recursive: true });
    return { page, problems, t };
  }

  it('changes a plugin setting, shows a refused value beside its field, applies it live and rolls it back', async () => {
    const { page, problems, t } = await open();
    await page.click('[data-section="plugins.alerts"]');
    const url = page.getByLabel('URL');
    await expect.poll(() => url.inputValue()).not.toContain('s3cr3t');
    await url.fill('ftp://not-a-webhook');
    await page.getByRole('button', { name: 'Apply' }).click();
    const problem = page.locator('[data-problem="plugins.alerts.channels[0].url"]');
    await problem.waitFor();
    expect(await problem.textContent()).toMatch(/http/);
    await page.screenshot({ path: join(shots, 'settings-refused.png'), fullPage: true });

    await page.click('[data-section="plugins.blueprint"]');
    await page.getByLabel('Greeting').fill('moin');
    await page.getByRole('button', { name: 'Check changes' }).click();
    await expect.poll(() => page.getByTestId('diff').textContent()).toContain('+     greeting: moin');
    await page.screenshot({ path: join(shots, 'settings-diff.png'), fullPage: true });
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText(/Applied as version \d+ without a restart: blueprint started again/).waitFor();
    expect((await t.api('GET', '/blueprint/hello')).body.message).toMatch(/^moin /);

    // The version before the change is the one to go back to.
    const history = page.getByTestId('history');
    await history.getByRole('button', { name: 'Roll back' }).first().click();
    await page.getByText(/Rolled back to version \d+ as version \d+/).waitFor();
    await eventually(async () => expect((await t.api('GET', '/blueprint/hello')).body.message).toMatch(/^hello /));
    await history.getByRole('button', { name: 'Changes' }).first().click();
    await expect.poll(() => history.getByTestId('diff').textContent()).toContain('greeting: hello');
    await page.screenshot({ path: join(shots, 'settings-history.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, SLOW);

  it('says a core change needs a restart, and enables a plugin from its section', async () => {
    const { page, problems, t } = await open();
    await page.click('[data-section="ocpp"]');
    await page.getByLabel('Heartbeat interval').fill('120s');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText(/Saved as version \d+\. Restart the appliance to take it\./).waitFor();
    await page.getByTestId('restart-banner').waitFor();

    await page.click('[data-section="plugins.billing"]');
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByText(/Applied as version \d+ without a restart: billing started again/).waitFor();
    expect((await t.api('GET', '/tariffs')).status).toBe(200);

    const transfer = page.getByTestId('transfer');
    const [download] = await Promise.all([page.waitForEvent('download'), transfer.getByRole('button', { name: 'Export site' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^chargekeeper-site-Test-Site-\d{4}-\d{2}-\d{2}\.json$/);
    const file = (await t.api('GET', '/settings/export')).body;
    await transfer.locator('input[type=file]').setInputFiles({ name: 'site.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file)) });
    const report = page.getByTestId('import-report');
    await report.waitFor();
    expect(await report.textContent()).toMatch(/Accounts: 0 added, 1 already here/);
    await page.screenshot({ path: join(shots, 'settings-restart-due.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, SLOW);
});
