import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, signIn, skipBrowser, useApp, useBrowser, watchErrors } from '../kit/index.js';
import { serveModel } from '../ocpp/v201-device-model-kit.js';
import { boot201, station } from '../ocpp/v201-kit.js';

const shots = join(import.meta.dirname, 'screenshots');
const SLOW = 90_000;

describe.skipIf(skipBrowser('device model'))('Device model card in Chromium', () => {
  const apps = useApp();
  const browser = useBrowser();

  it('refreshes the model with progress, shows the summary, and edits a variable showing the charger\'s answer', async () => {
    const t = await apps.start();
    const cp = await station(t, 'CS-UI');
    await boot201(cp);
    // Parts come 400 ms apart, so the progress shows while the report streams in.
    const { values } = serveModel(cp, undefined, 5, 400);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems = watchErrors(page);
    await signIn(page, t.url);
    await page.goto(`${t.url}/#/chargers/CS-UI`);
    const card = page.getByTestId('device-model');
    await card.getByText('Not reported yet').waitFor();

    await card.getByRole('button', { name: 'Refresh' }).click();
    await card.getByText(/Receiving the report: \d+ parts?/).waitFor();
    await card.getByText(/Reported .*: 20 attributes in 4 parts/).waitFor({ timeout: 10_000 });
    const summary = card.getByTestId('device-model-summary');
    expect(await summary.innerText()).toContain('Security profile 2: TLS with basic authentication.');
    expect(await summary.innerText()).toContain('2 EVSEs: EVSE 1 with connector 1 (cType2), up to 11 kW');

    const row = card.locator('tr[data-variable="OCPPCommCtrlr.HeartbeatInterval"]');
    expect(await row.innerText()).toContain('300 s');
    await row.getByRole('button', { name: 'Edit OCPPCommCtrlr.HeartbeatInterval' }).click();
    await row.getByLabel('New value of OCPPCommCtrlr.HeartbeatInterval').fill('5');
    await row.getByRole('button', { name: 'Save' }).click();
    await row.getByText('Rejected').waitFor();
    expect(await row.innerText()).toContain('ValueTooLow: at least 10 s');
    await row.getByRole('button', { name: 'Edit OCPPCommCtrlr.HeartbeatInterval' }).click();
    await row.getByLabel('New value of OCPPCommCtrlr.HeartbeatInterval').fill('120');
    await row.getByRole('button', { name: 'Save' }).click();
    await row.getByText('Accepted').waitFor();
    await eventually(async () => (await row.innerText()).includes('120 s'));
    expect(values.get('ocppcommctrlr/0/0/heartbeatinterval//actual')).toBe('120');
    await card.getByText('Every 2 min.').waitFor();

    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'device-model.png'), fullPage: true });
    // A read-only variable has no edit.
    expect(await card.locator('tr[data-variable="SecurityCtrlr.SecurityProfile"]').getByRole('button').count()).toBe(0);
    await card.getByLabel('Filter by component').fill('smartcharging');
    await card.getByRole('button', { name: 'Filter' }).click();
    await card.getByText('4 variables').waitFor();
    await card.screenshot({ path: join(shots, 'device-model-filtered.png') });
    expect(problems).toEqual([]);
  }, SLOW);
});
