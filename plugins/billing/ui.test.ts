import type { Page } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, bootedCharger, signIn as signInAs, skipBrowser, type TestApp, useApp, useBrowser } from '../../tests/kit/index.js';
import { costOf, driver, DRIVER_PASSWORD, runSession, withBilling } from './test-kit.js';

const SLOW = 90_000;

describe.skipIf(skipBrowser('billing'))('billing pages in Chromium', () => {
  let t: TestApp;
  const apps = useApp();
  const browser = useBrowser();
  let page: Page;
  const problems: string[] = [];

  const signIn = (p: Page, username = 'admin', password = ADMIN_PASSWORD, heading = 'Dashboard') => signInAs(p, t.url, username, password, heading);

  beforeAll(async () => {
    t = await apps.start(withBilling());
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('console', (msg) => { if (msg.type() === 'error') problems.push(msg.text()); });
    page.on('pageerror', (err) => problems.push(err.message));
    await signIn(page, 'admin', ADMIN_PASSWORD, 'Dashboard');
  }, 60_000);

  afterEach(() => { expect(problems, 'the browser logged errors').toEqual([]); });


  it('creates a tariff with a night window and shows which tariff applies where', async () => {
    await bootedCharger(t, 'CP-UI');
    await page.goto(`${t.url}/#/p/tariffs`);
    await page.getByRole('heading', { name: 'Tariffs', level: 1 }).waitFor();
    await page.getByTestId('tariff-rule').getByText(/most specific tariff wins/).waitFor();
    await page.getByRole('button', { name: 'New tariff' }).click();
    const form = page.getByTestId('tariff-form');
    await form.getByLabel('Name').fill('Members');
    await form.getByLabel('Price per kWh').fill('0.30');
    await form.getByLabel('Session fee').fill('1');
    await form.getByRole('button', { name: 'Add window' }).click();
    await form.getByTestId('tou-window').getByLabel('per kWh').fill('0.20');
    await form.getByRole('button', { name: 'Create tariff' }).click();
    await page.getByTestId('tariffs').getByText('Members').waitFor();
    const [tariff] = (await t.api('GET', '/tariffs')).body;
    expect(tariff).toMatchObject({ name: 'Members', pricePerKwh: 0.3, sessionFee: 1, isDefault: true, timeOfUse: [{ from: '22:00', to: '06:00', pricePerKwh: 0.2 }] });
    await page.reload();
    await page.getByTestId('assignments').getByText('CP-UI').waitFor();
    await page.getByTestId('assignments').getByText('default').waitFor();
  }, SLOW);

  it('shows a driver their own statement with the amount of their sessions', async () => {
    const cp = await bootedCharger(t, 'CP-UI2');
    const dora = await driver(t, 'dora');
    const now = new Date();
    // 11:00 UTC on the 2nd of this month: midday in Berlin, so the base price, not the night window.
    const noon = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 2, 11, 0, 0));
    const id = await runSession(cp, { idTag: dora.idTag, start: noon.toISOString(), stop: new Date(noon.getTime() + 3_600_000).toISOString(), meterStart: 0, meterStop: 12_345 });
    expect(await costOf(t, id)).toEqual({ amount: '4.70', currency: 'EUR' });
    const p = await (await browser.newContext()).newPage();
    p.on('pageerror', (err) => problems.push(err.message));
    await signIn(p, 'dora', DRIVER_PASSWORD, 'Charger availability');
    await p.getByRole('link', { name: 'Statements' }).click();
    await p.getByTestId('statement-amount').getByText('4.70 EUR').waitFor();
    // 0.30 by day, 0.20 in the night window: whichever applies as the test runs.
    await p.getByTestId('prices-now').getByText(/^0\.[23]0 €\/kWh, 1\.00 € per session$/).first().waitFor();
    await p.context().close();
  }, SLOW);
});
