import { describe, expect, it } from 'vitest';
import { eventually, signIn, skipBrowser, useApp, useBrowser, watchErrors } from '../../tests/kit/index.js';
import type { CampaignView } from './store.js';
import { campaign, simCharger, upload, withFleet, type SimCharger } from './test-kit.js';

const apps = useApp();

describe.skipIf(skipBrowser('fleet'))('Fleet page in Chromium', () => {
  const browser = useBrowser();

  it('shows a stopped firmware campaign per charger, starts a configuration campaign from the form, and resumes the stopped one', async () => {
    const t = await apps.start(withFleet({ groups: { 'garage-a': ['CP1', 'CP2', 'CP3'] } }));
    const sims: Record<string, SimCharger> = {};
    for (const id of ['CP1', 'CP2', 'CP3']) sims[id] = await simCharger(t, id, id === 'CP2' ? { fail: 'InstallationFailed' } : {});
    const file = await upload(t, Buffer.alloc(300_000, 3), 'wallbox-2.0.0.bin');
    const made = await t.api<CampaignView>('POST', '/fleet/campaigns', {
      body: { kind: 'firmware', name: 'Wallbox 2.0.0', selection: { group: 'garage-a' }, waveSize: 1, firmware: { fileId: file.id } },
    });
    expect(made.status).toBe(201);
    await eventually(async () => (await campaign(t, made.body.id)).state === 'stopped', 15_000);

    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(10_000);
    const problems = watchErrors(page);
    await signIn(page, t.url);
    await page.getByRole('link', { name: 'Fleet' }).click();
    await page.getByRole('heading', { name: 'Fleet', level: 1 }).waitFor();
    const row = (id: string) => page.locator(`[data-testid="targets"] tr[data-charger="${id}"]`);
    await row('CP3').waitFor();
    expect(await row('CP1').innerText()).toMatch(/CP1\s+0\s+done\s+Installed\s+1\.0\.0 → 2\.0\.0/);
    expect(await row('CP2').innerText()).toMatch(/CP2\s+1\s+failed\s+InstallationFailed\s+1\.0\.0\s+the charger reported InstallationFailed/);
    expect(await row('CP3').innerText()).toMatch(/CP3\s+2\s+skipped\s+—\s+1\.0\.0\s+not sent: the campaign stopped/);
    expect(await page.getByTestId('stop-reason').innerText()).toBe('Stopped: CP2 failed: the charger reported InstallationFailed');
    expect(await page.locator(`[data-campaign="${made.body.id}"]`).innerText()).toMatch(/Wallbox 2\.0\.0[\s\S]*group garage-a[\s\S]*stopped[\s\S]*1 done[\s\S]*1 failed[\s\S]*1 skipped/);
    await page.screenshot({ path: '/tmp/fleet-stopped.png', fullPage: true });

    // A configuration campaign from the form: the group's chargers are listed before it starts.
    await page.getByRole('button', { name: 'New campaign' }).click();
    await page.getByLabel('Kind').selectOption('configuration');
    await page.getByLabel('Group').selectOption('garage-a');
    await eventually(async () => /^3 chargers: CP1 \(2\.0\.0\), CP2 \(1\.0\.0\), CP3 \(1\.0\.0\)/.test(await page.getByTestId('matched').innerText()));
    await page.getByLabel('Value').fill('30');
    await page.screenshot({ path: '/tmp/fleet-form.png', fullPage: true });
    await page.getByRole('button', { name: 'Start campaign' }).click();
    await page.getByRole('heading', { name: 'MeterValueSampleInterval = 30' }).waitFor();
    await eventually(async () => (await page.locator('[data-testid="targets"] tr[data-charger] [data-field="status"]').allInnerTexts()).join() === 'Accepted,Accepted,Accepted', 10_000);
    expect(Object.values(sims).map((s) => s.configuration.MeterValueSampleInterval)).toEqual(['30', '30', '30']);

    // Back to the firmware campaign: CP2's problem fixed, Resume finishes it.
    sims.CP2!.fix();
    await page.locator(`[data-campaign="${made.body.id}"]`).getByRole('button', { name: 'Wallbox 2.0.0' }).click();
    await page.locator(`[data-campaign="${made.body.id}"]`).getByRole('button', { name: 'Resume' }).click();
    await eventually(async () => (await row('CP3').innerText()).includes('1.0.0 → 2.0.0'), 15_000);
    await page.locator('[data-testid="campaign-detail"] [data-status="completed"]').waitFor();
    expect(await row('CP2').innerText()).toMatch(/CP2\s+1\s+done\s+Installed\s+1\.0\.0 → 2\.0\.0/);
    await page.screenshot({ path: '/tmp/fleet-desktop.png', fullPage: true });

    const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
    const phoneProblems = watchErrors(phone);
    await signIn(phone, t.url);
    await phone.goto(`${t.url}/#/p/fleet`);
    await phone.locator('[data-testid="targets"] tr[data-charger="CP3"]').waitFor();
    await phone.screenshot({ path: '/tmp/fleet-phone.png', fullPage: true });
    const wide = await phone.evaluate(() => Array.from(document.querySelectorAll('body *')).filter((e) => e.getBoundingClientRect().right > 392).slice(0, 5).map((e) => `${e.tagName}.${e.className}`));
    expect(wide).toEqual([]);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(phoneProblems).toEqual([]);
    expect(problems).toEqual([]);
  }, 120_000);
});
