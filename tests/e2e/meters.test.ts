import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFixture, MODELS_DIR } from '../../hardware-adapters/modbus-meter/model.js';
import { MeterSimulator } from '../../hardware-adapters/modbus-meter/simulator.js';
import { signIn, skipBrowser, type TestApp, useApp, useBrowser, watchErrors } from '../kit/index.js';

describe.skipIf(skipBrowser('meters'))('a site meter in the UI', () => {
  let t: TestApp;
  const apps = useApp();
  let sim: MeterSimulator;
  const browser = useBrowser();
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    sim = await MeterSimulator.start();
    sim.load(1, loadFixture(join(MODELS_DIR, 'eastron-sdm630.fixture.json')));
    t = await apps.start({
      config: { meters: [{ id: 'grid', model: 'eastron-sdm630', modbus: { host: '127.0.0.1', port: sim.port, unitId: 1 }, role: 'grid', pollInterval: '200ms' }] },
    });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(10_000);
    problems = watchErrors(page);
  }, 60_000);

  afterAll(async () => {
    await sim?.stop();
  });

  it('shows the grid power live on the dashboard and a chart on the meters page', async () => {
    await signIn(page, t.url);
    const grid = page.locator('[data-stat="grid-grid"]');
    await expect.poll(() => grid.textContent(), { timeout: 10_000 }).toBe('3.5 kW');
    sim.setFloat(1, 'input', 0x0034, 11_000); // the house now draws 11 kW
    await expect.poll(() => grid.textContent(), { timeout: 10_000 }).toBe('11.0 kW');
    await page.getByRole('link', { name: 'Meters' }).click();
    await page.getByRole('heading', { name: 'Meters' }).waitFor();
    await expect.poll(() => page.locator('svg').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: join(import.meta.dirname, 'screenshots', 'desktop-meters.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, 60_000);
});
