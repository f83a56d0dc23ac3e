import type { Page } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, signIn as signInAs, skipBrowser, type TestApp, type TestChargePoint, useApp, useBrowser } from '../../tests/kit/index.js';
import { authorize, startTx } from './test-kit.js';

const SLOW = 90_000;

describe.skipIf(skipBrowser('users'))('users pages in Chromium', () => {
  let t: TestApp;
  const apps = useApp();
  const browser = useBrowser();
  let page: Page;
  let cp: TestChargePoint;
  const problems: string[] = [];

  const signIn = (p: Page, username = 'admin', password = ADMIN_PASSWORD, heading = 'Dashboard') => signInAs(p, t.url, username, password, heading);

  beforeAll(async () => {
    t = await apps.start({ config: { plugins: { users: {} } } });
    cp = await t.chargePoint('UI-CP');
    await cp.boot();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (msg) => {
      // A CSV with a bad line is refused with 400 on purpose below.
      if (msg.type() === 'error' && !/status of 400/.test(msg.text())) problems.push(msg.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));
    await signIn(page, 'admin', ADMIN_PASSWORD, 'Dashboard');
  }, 60_000);

  afterEach(() => {
    expect(problems, 'the browser logged errors').toEqual([]);
  });


  it('creates a member, gives them a card, and the card is accepted at a charger', async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    const form = page.getByTestId('user-create');
    await form.getByLabel('Username').fill('member1');
    await form.getByLabel('Name', { exact: true }).fill('Mia Member');
    await form.getByLabel('Role').selectOption('driver');
    await form.getByLabel('Password').fill('member1-password');
    await form.getByRole('button', { name: 'Create user' }).click();
    await page.locator('tr[data-user="member1"]').waitFor();
    const member = (await t.api('GET', '/users')).body.find((u: { username: string }) => u.username === 'member1');
    expect(member).toMatchObject({ name: 'Mia Member', role: 'driver' });

    await page.getByRole('link', { name: 'RFID tags' }).click();
    await page.getByRole('heading', { name: 'RFID tags', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'New tag' }).click();
    const tagForm = page.getByTestId('tag-form');
    await tagForm.getByLabel('ID tag').fill('04A1B2C3');
    await tagForm.getByLabel('Owner').selectOption({ label: 'member1 (Mia Member)' });
    await tagForm.getByRole('button', { name: 'Create tag' }).click();
    await page.locator('tr[data-tag="04A1B2C3"]').getByText('member1').waitFor();

    expect((await authorize(cp, '04a1b2c3')).status).toBe('Accepted');
    const start = await startTx(cp, '04A1B2C3');
    expect(start.idTagInfo.status).toBe('Accepted');
    expect((await t.api('GET', `/transactions/${start.transactionId}`)).body.userId).toBe(member.id);
  }, SLOW);

  it('blocks the card with one click, and the charger is told at once', async () => {
    await page.locator('tr[data-tag="04A1B2C3"]').getByRole('button', { name: 'Block' }).click();
    await page.locator('tr[data-tag="04A1B2C3"]').getByRole('button', { name: 'Unblock' }).waitFor();
    expect((await authorize(cp, '04A1B2C3')).status).toBe('Blocked');
  }, SLOW);

  it('adopts an unknown card that was presented at the charger', async () => {
    expect((await authorize(cp, 'FOUNDCARD')).status).toBe('Invalid');
    await page.reload();
    const row = page.locator('tr[data-unknown="FOUNDCARD"]');
    await row.waitFor();
    await row.getByRole('button', { name: 'Adopt' }).click();
    const form = page.getByTestId('tag-form');
    await form.getByLabel('Owner').selectOption({ label: 'member1 (Mia Member)' });
    await form.getByRole('button', { name: 'Adopt card' }).click();
    await page.locator('tr[data-tag="FOUNDCARD"]').waitFor();
    expect(await row.count()).toBe(0);
    expect((await authorize(cp, 'foundcard')).status).toBe('Accepted');
  }, SLOW);

  it('shows every bad line of a refused CSV import and imports nothing', async () => {
    await page.getByRole('button', { name: 'Import / export' }).click();
    const form = page.getByTestId('tag-import');
    await form.locator('textarea').fill('idTag,username,status\nCSV-1,member1,Accepted\nCSV-2,nobody,Accepted\nCSV-3,member1,Maybe\n');
    await form.getByRole('button', { name: 'Import' }).click();
    await form.getByRole('alert').getByText('Nothing was imported: 2 problems.').waitFor();
    await form.getByText('Line 3').waitFor();
    await form.getByText('Line 4').waitFor();
    expect((await t.api('GET', '/tags/CSV-1')).status).toBe(404);
  }, SLOW);

  it('shows a driver their own cards and the audit log to the admin', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByTestId('audit').getByText('tag.adopt').waitFor();
    await page.getByTestId('audit').getByText('user.create').waitFor();

    const driver = await (await browser.newContext()).newPage();
    await signIn(driver, 'member1', 'member1-password', 'Charger availability');
    await driver.getByRole('link', { name: 'My cards' }).click();
    const mine = driver.getByTestId('my-tags');
    await mine.getByText('FOUNDCARD').waitFor();
    await mine.getByText('04A1B2C3').waitFor();
    expect(await mine.locator('tbody tr').count()).toBe(2);
    await driver.context().close();
  }, SLOW);
});
