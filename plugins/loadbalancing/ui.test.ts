import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFixture, MODELS_DIR } from '../../hardware-adapters/modbus-meter/model.js';
import { MeterSimulator } from '../../hardware-adapters/modbus-meter/simulator.js';
import { launchBrowser, signIn, skipBrowser, watchErrors } from '../../tests/kit/index.js';
import { eventually, startApp, type TestApp } from '../../tests/kit/index.js';
import { obeyingCharger, type ObeyingCharger } from './test-kit.js';
import { amps } from './ui/model.js';
import type { LoadView } from './view.js';

const shots = join(import.meta.dirname, 'screenshots');
const SLOW = 90_000;

describe.skipIf(skipBrowser('loadbalancing'))('Load page in Chromium', () => {
  let t: TestApp;
  let meter: MeterSimulator;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let sims: Record<string, ObeyingCharger>;
  let follow: ReturnType<typeof setInterval> | undefined;
  let report: ReturnType<typeof setInterval> | undefined;
  const house = 4;

  beforeAll(async () => {
    meter = await MeterSimulator.start();
    meter.load(1, loadFixture(join(MODELS_DIR, 'eastron-sdm630.fixture.json')));
    t = await startApp({
      config: {
        meters: [{ id: 'grid', model: 'eastron-sdm630', modbus: { host: '127.0.0.1', port: meter.port, unitId: 1 }, role: 'grid', pollInterval: '500ms' }],
        plugins: {
          loadbalancing: {
            minUpdateInterval: '0s', meterStaleAfter: '60s',
            circuits: [{
              id: 'main', maxCurrent: 32, maxPower: 22000, meter: 'grid', chargers: ['CP1'],
              circuits: [{ id: 'garage', maxCurrent: 20, chargers: ['CP2', 'CP3'] }],
            }],
          },
        },
      },
    });
    sims = {};
    for (const id of ['CP1', 'CP2', 'CP3']) {
      sims[id] = await obeyingCharger(t, id);
      await sims[id].boot();
    }
    // The grid meter sees the house and the cars; the chargers report what their cars draw.
    follow = setInterval(() => {
      const total = house + Object.values(sims).reduce((s, c) => s + c.draw(1), 0);
      for (const addr of [0x0006, 0x0008, 0x000a]) meter.setFloat(1, 'input', addr, total);
    }, 100);
    report = setInterval(() => { for (const s of Object.values(sims)) void s.report(1).catch(() => undefined); }, 400);
    browser = await launchBrowser();
  }, SLOW);

  afterAll(async () => {
    clearInterval(follow);
    clearInterval(report);
    await browser?.close();
    await t?.stop();
    await meter?.stop();
  }, SLOW);

  const row = (key: string) => page.locator(`[data-testid="connector"][data-connector="${key}"]`);
  const view = async () => (await t.api<LoadView>('GET', '/loadbalancing')).body;

  it('shows the circuit tree with bars, a chart line per connector and the fuse, the rows with their limits, and boosts a session', async () => {
    await sims.CP1!.plug(1, 'A');
    await sims.CP2!.plug(1, 'B');
    await sims.CP3!.plug(1, 'C');
    await eventually(() => Object.values(sims).every((s) => s.limit(1) > 0 && s.limit(1) < 32), 10_000);
    // A few points of history, with one car nearly full in between so the lines move.
    for (let i = 0; i < 4; i++) {
      if (i === 2) sims.CP1!.want(1, 5);
      await t.clock.advance(30_000);
      await new Promise((r) => setTimeout(r, 600));
    }
    const history = (await t.api('GET', '/loadbalancing/history?hours=1')).body;
    expect(history.circuits.main.length).toBeGreaterThanOrEqual(4);

    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(10_000);
    problems = watchErrors(page);
    await signIn(page, t.url);
    await page.getByRole('link', { name: 'Load' }).click();
    await page.getByRole('heading', { name: 'Load', level: 1 }).waitFor();

    // The tree: garage is drawn inside main, each with its own heading.
    const main = page.locator('[data-testid="circuit"][data-circuit="main"]');
    const garage = main.locator('[data-testid="circuit"][data-circuit="garage"]');
    await main.getByRole('heading', { name: 'main' }).waitFor();
    await garage.getByRole('heading', { name: 'garage' }).waitFor();
    expect(await main.locator('.facts').first().innerText()).toMatch(/32 A per phase · 3 phases · at most 22\.0 kW · meter grid/);

    // Rows show what the API gives each connector, once the page has caught up with the last change.
    await eventually(async () => {
      const v = await view();
      const all = [...v.circuits[0]!.connectors, ...v.circuits[0]!.circuits[0]!.connectors];
      for (const k of all) {
        const text = await row(`${k.chargerId}:${k.connectorId}`).locator('[data-field="limit"]').innerText();
        if (text !== `${amps(k.limit!)} A`) return null;
      }
      return true;
    }, 15_000);
    expect(await main.locator(':scope > .table-wrap [data-testid="connector"]').count()).toBe(1);
    expect(await garage.locator('[data-testid="connector"]').count()).toBe(2);
    for (const key of ['CP1:1', 'CP2:1', 'CP3:1']) {
      expect(await row(key).locator('[data-status="charging"]').innerText()).toBe('charging');
      expect(await row(key).innerText()).toMatch(/L1 L2 L3/);
    }
    // CP1's car takes 5 A: its draw says so.
    await eventually(async () => (await row('CP1:1').locator('[data-field="draw"]').innerText()) === '5 A', 10_000);

    // Bars: three phases and the power on main, the meter's mark, the room left for the cars; garage has no meter.
    const bars = main.locator('[data-testid="phase-bars"]').first();
    expect(await bars.locator('[data-phase]').evaluateAll((els) => els.map((e) => e.getAttribute('data-phase')))).toEqual(['L1', 'L2', 'L3', 'power']);
    expect(await bars.locator('[data-phase="L1"] [data-seg="meter"]').count()).toBe(1);
    const given = await bars.locator('[data-phase="L1"] [data-seg="given"]').evaluate((el) => el.getBoundingClientRect().width);
    const track = await bars.locator('[data-phase="L1"] [role="img"]').evaluate((el) => el.getBoundingClientRect().width);
    expect(given).toBeGreaterThan(track * 0.3);
    expect(await bars.locator('[data-phase="L1"] [role="img"]').getAttribute('aria-label')).toMatch(/^L1: [\d.]+ A given to cars, [\d.]+ A free, [\d.]+ A other load, meter [\d.]+ A, of 32 A$/);
    expect(await garage.locator('[data-seg="meter"]').count()).toBe(0);

    // The chart: the circuit's load, a line per connector below it, the fuse dashed.
    const chart = main.getByRole('img', { name: 'Load of circuit main against its 32 A limit, last 3 h' });
    await chart.waitFor();
    for (const key of ['load', 'CP1:1', 'CP2:1', 'CP3:1']) {
      const d = await chart.locator(`path[data-series="${key}"]`).getAttribute('d');
      expect(d, key).toMatch(/^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){2,}/);
    }
    expect(await chart.locator('line[data-limit]').count()).toBe(1);
    const garageChart = garage.getByRole('img', { name: /Load of circuit garage against its 20 A limit/ });
    expect(await garageChart.locator('path[data-series]').evaluateAll((els) => els.map((e) => e.getAttribute('data-series')))).toEqual(['load', 'CP2:1', 'CP3:1']);
    // A connector keeps its colour in every chart.
    expect(await garageChart.locator('path[data-series="CP2:1"]').getAttribute('stroke')).toBe(await chart.locator('path[data-series="CP2:1"]').getAttribute('stroke'));
    expect(await main.locator('figcaption').first().innerText()).toMatch(/fuse 32 A[\s\S]*load \(measured\)[\s\S]*CP1 · 1 limit/);

    // Boost: the admin serves CP3's session first; its row says so.
    await row('CP3:1').getByRole('button', { name: 'Boost' }).click();
    await row('CP3:1').locator('[data-status="boosted"]').waitFor();
    expect(await row('CP3:1').getByRole('button', { name: 'Boost' }).count()).toBe(0);
    const boosted = (await view()).circuits[0]!.circuits[0]!.connectors.find((k) => k.chargerId === 'CP3')!;
    expect(boosted).toMatchObject({ boosted: true, priority: 100 });
    expect((await t.api('GET', '/audit?action=loadbalancing.boost')).body[0]).toMatchObject({ actor: 'admin', target: 'CP3:1' });
    // Served first: CP3 gets more than CP2 once the shares are sent.
    await eventually(() => sims.CP3!.limit(1) > sims.CP2!.limit(1), 10_000);
    for (let i = 0; i < 2; i++) {
      await t.clock.advance(30_000);
      await new Promise((r) => setTimeout(r, 600));
    }
    await eventually(async () => (await row('CP3:1').locator('[data-field="limit"]').innerText()) === `${amps(sims.CP3!.limit(1))} A`, 10_000);
    await page.screenshot({ path: join(shots, 'desktop-load.png'), fullPage: true });

    const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
    const phoneProblems = watchErrors(phone);
    await signIn(phone, t.url);
    await phone.goto(`${t.url}/#/p/load`);
    await phone.locator('[data-testid="circuit"][data-circuit="garage"] svg[role="img"]').waitFor();
    // Nothing is wider than the phone.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await phone.screenshot({ path: join(shots, 'phone-load.png'), fullPage: true });
    expect(phoneProblems).toEqual([]);
    expect(problems).toEqual([]);
  }, SLOW);

  it('lets an installer change a circuit\'s limit and the priorities, with a bad value shown beside its field, and reset them', async () => {
    const garage = page.locator('[data-testid="circuit"][data-circuit="garage"]');
    await garage.getByTestId('edit-limits').click();
    const limit = garage.locator('input[name="maxCurrent"]');
    // Two chargers at the 6 A failsafe need 12 A: the form says so beside the field and keeps the value.
    await limit.fill('8');
    await garage.getByRole('button', { name: 'Apply' }).click();
    expect(await garage.getByTestId('error-maxCurrent').innerText()).toMatch(/2 charger\(s\) at failsafeCurrent 6 A need 12 A/);
    expect(await limit.inputValue()).toBe('8');
    await limit.fill('14');
    await garage.getByRole('button', { name: 'Apply' }).click();
    await garage.getByTestId('limits-changed').waitFor();
    expect(await garage.getByTestId('limits-changed').innerText()).toMatch(/^Set here by admin, .*; the site config says 20 A\.$/);
    expect(await garage.locator('.facts').first().innerText()).toMatch(/^14 A per phase/);
    // The garage's two cars share the new 14 A (CP3 is boosted: it is served first).
    await eventually(() => sims.CP2!.limit(1) + sims.CP3!.limit(1) <= 14.05, 10_000);
    // The next chart point has the new limit: the fuse line steps down where it was changed instead of being redrawn at 14 A.
    await t.clock.advance(30_000);
    await garage.locator('path[data-limit]').first().waitFor({ timeout: 15_000 });

    const card = page.getByTestId('priorities');
    expect(await card.innerText()).toMatch(/Everyone is equal/);
    await card.getByTestId('edit-priorities').click();
    await card.locator('input[name="priority"]').fill('20');
    // A row without cards is refused with the reason on that row.
    await card.getByRole('button', { name: 'Apply' }).click();
    await card.getByTestId('priority-error').waitFor();
    await card.locator('input[name="cards"]').fill('b');
    await card.getByRole('button', { name: 'Apply' }).click();
    await card.locator('table').waitFor();
    expect(await card.innerText()).toMatch(/Set here by admin[\s\S]*b\s+20/);
    await eventually(async () => (await row('CP2:1').locator('[data-field="priority"]').innerText()) === '20', 10_000);
    await page.screenshot({ path: join(shots, 'desktop-load-settings.png'), fullPage: true });

    await garage.getByRole('button', { name: 'Reset to config' }).click();
    await eventually(async () => (await garage.getByTestId('limits-changed').count()) === 0, 10_000);
    await card.getByRole('button', { name: 'Reset to config' }).click();
    await card.getByText('Everyone is equal').waitFor();
    expect((await view()).circuits[0]!.circuits[0]).toMatchObject({ maxCurrent: 20, changed: null });
    // The two refused changes are the only console errors (the browser logs every 400 answer).
    expect(problems.splice(0)).toEqual([expect.stringMatching(/status of 400/), expect.stringMatching(/status of 400/)]);
  }, SLOW);

  it('warns when the circuit meter goes silent and the failsafe shares apply', async () => {
    meter.silent.add(1);
    await t.clock.advance(61_000);
    const warning = page.locator('[data-circuit="main"] [data-testid="meter-stale"]');
    await warning.waitFor({ timeout: 15_000 });
    expect(await warning.innerText()).toMatch(/^Meter grid silent — failsafe shares\. .*held at 6 A per phase/);
    expect(await page.locator('[data-circuit="main"] [data-phase="L1"] [data-seg="meter"]').count()).toBe(0);
    // What the failsafe holds back is not shown as the building's load.
    expect(await page.locator('[data-circuit="main"] [data-phase="L1"] [role="img"]').first().getAttribute('aria-label')).toMatch(/A held back, of 32 A$/);
    await page.screenshot({ path: join(shots, 'desktop-load-meter-silent.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, SLOW);
});

describe.skipIf(skipBrowser('loadbalancing'))('Load page without circuits', () => {
  it('tells the installer how to configure them', async () => {
    const t = await startApp({ config: { plugins: { loadbalancing: {} } } });
    const browser = await launchBrowser();
    try {
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
      const problems = watchErrors(page);
      await signIn(page, t.url);
      await page.goto(`${t.url}/#/p/load`);
      const empty = page.getByTestId('no-circuits');
      await empty.waitFor();
      expect(await empty.innerText()).toMatch(/No circuits configured[\s\S]*plugins\.loadbalancing\.circuits[\s\S]*maxCurrent: 32/);
      await page.screenshot({ path: join(shots, 'desktop-load-empty.png') });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
      await t.stop();
    }
  }, SLOW);
});
