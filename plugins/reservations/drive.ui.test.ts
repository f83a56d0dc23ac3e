import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, pendingRoute404, skipBrowser, type TestApp, type TestChargePoint, useApp, useBrowser } from '../../tests/kit/index.js';
import { charger, driver, meter, now, startTx, status, withReservationProfile } from './test-kit.js';

const repo = join(import.meta.dirname, '..', '..');
const shots = join(repo, 'tests', 'e2e', 'screenshots');
const PHONE = { width: 390, height: 844 };
const SLOW = 90_000;

describe.skipIf(skipBrowser("drivers' page"))('the drivers\' page on a phone', () => {
  let t: TestApp;
  const apps = useApp();
  const browser = useBrowser();
  let page: Page;
  let cp1: TestChargePoint;
  let cp2: TestChargePoint;
  let ann: { id: number; token: string; idTag: string };
  let annTx = 0;
  let bobTx = 0;
  const problems: string[] = [];
  const remote: string[] = [];
  const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 12_000, interval: 100 });

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    t = await apps.start({ config: { site: { name: 'Maple Street Co-op' }, plugins: { users: {}, billing: { currency: 'EUR' }, reservations: {} } } });
    expect((await t.api('POST', '/tariffs', { body: { name: 'Standard', pricePerKwh: 0.4 } })).status).toBe(201);
    cp1 = await charger(t, 'CP1', 2);
    withReservationProfile(cp1);
    cp1.handle('RemoteStartTransaction', ({ params }) => {
      remote.push(`start:${params.connectorId}:${params.idTag}`);
      setTimeout(() => void (async () => {
        annTx = (await startTx(cp1, params.idTag, params.connectorId)).transactionId;
        await status(cp1, params.connectorId, 'Charging');
      })(), 20);
      return { status: 'Accepted' };
    });
    cp1.handle('RemoteStopTransaction', ({ params }) => {
      remote.push(`stop:${params.transactionId}`);
      setTimeout(() => void (async () => {
        await cp1.call('StopTransaction', { transactionId: params.transactionId, meterStop: 1000 + 2500, timestamp: now(), reason: 'Remote' });
        await status(cp1, 1, 'Available');
      })(), 20);
      return { status: 'Accepted' };
    });
    cp2 = await charger(t, 'CP2', 1);
    ann = await driver(t, 'ann', 'ANN-1');
    await t.api('PATCH', `/users/${ann.id}`, { body: { name: 'Ann Driver' } });
    const bob = await driver(t, 'bob', 'BOB-1');
    bobTx = (await startTx(cp2, bob.idTag)).transactionId;
    await status(cp2, 1, 'Charging');

    const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    page = await context.newPage();
    page.setDefaultTimeout(12_000);
    page.on('console', (msg) => { if (msg.type() === 'error' && !pendingRoute404(msg)) problems.push(msg.text()); });
    page.on('pageerror', (err) => problems.push(err.message));
  }, 60_000);

  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      await page?.screenshot({ path: join(shots, `failed-drive-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 50)}.png`), fullPage: true }).catch(() => undefined);
    });
  });

  afterEach(() => {
    expect(problems, 'the browser logged errors').toEqual([]);
  });


  const tile = (id: string) => page.locator(`[data-charger="${id}"]`);
  const connector = (id: string, n: number) => tile(id).locator(`[data-connector="${n}"]`);

  it('lands a driver on the drive page after sign-in, with live availability and the price now', async () => {
    await page.goto(t.url);
    await page.getByLabel('Username').fill('ann');
    await page.getByLabel('Password').fill('ann-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Charge', level: 1, exact: true }).waitFor();
    await poll(() => new URL(page.url()).hash).toBe('#/p/drive');
    await page.getByText('Hi Ann · Maple Street Co-op').waitFor();

    await poll(() => tile('CP1').getAttribute('data-summary')).toBe('2 of 2 free');
    await poll(() => tile('CP2').getAttribute('data-summary')).toBe('Busy');
    await poll(() => page.getByTestId('free-count').innerText()).toBe('2 connectors free now');
    await poll(() => tile('CP1').getByTestId('price').innerText()).toMatch(/0\.40.*kWh/);

    // A connector breaks and recovers: the page follows without a reload.
    await status(cp1, 2, 'Faulted');
    await poll(() => connector('CP1', 2).getAttribute('data-availability')).toBe('faulted');
    await connector('CP1', 2).getByText('Out of order').waitFor();
    await page.screenshot({ path: join(shots, 'phone-drive-chargers.png') });
    await status(cp1, 2, 'Available');
    await poll(() => connector('CP1', 2).getAttribute('data-availability')).toBe('free');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width, 'nothing sticks out sideways at 390 px').toBeLessThanOrEqual(PHONE.width);
  }, SLOW);

  it('reserves a connector and shows the hold with its countdown', async () => {
    await connector('CP1', 1).getByRole('button', { name: 'Reserve' }).click();
    const hold = page.getByTestId('hold-reservation');
    await hold.waitFor();
    await hold.getByText('CP1 · connector 1').waitFor();
    await poll(() => hold.getByTestId('countdown').innerText()).toMatch(/^(29|30):\d\d$/);
    const [r] = (await t.api('GET', '/reservations?state=active')).body;
    expect(r).toMatchObject({ chargerId: 'CP1', connectorId: 1, idTag: 'ANN-1', userId: ann.id, enforcement: 'charger' });
    await poll(() => connector('CP1', 1).getAttribute('data-availability')).toBe('mine');
    await page.screenshot({ path: join(shots, 'phone-drive-reserved.png') });
  }, SLOW);

  it('starts remotely, shows energy rising as meter values arrive, stops and shows the cost', async () => {
    await page.getByTestId('hold-reservation').getByRole('button', { name: 'Start charging' }).click();
    const running = page.getByTestId('running-session');
    await running.waitFor();
    expect(remote).toEqual(['start:1:ANN-1']);
    await poll(async () => (await t.api('GET', '/reservations?state=used')).body.length).toBe(1);
    expect(await page.getByTestId('hold-reservation').count()).toBe(0);

    await meter(cp1, annTx, 1000 + 800, 7100);
    await poll(() => running.getByTestId('session-energy').innerText()).toBe('0.80 kWh');
    await poll(() => running.getByTestId('session-power').innerText()).toBe('7.1 kW');
    await meter(cp1, annTx, 1000 + 2500, 7200);
    await poll(() => running.getByTestId('session-energy').innerText()).toBe('2.50 kWh');
    await poll(() => running.getByTestId('session-cost').innerText()).toMatch(/1\.00/);
    await page.screenshot({ path: join(shots, 'phone-drive-charging.png') });

    await running.getByRole('button', { name: 'Stop charging' }).click();
    const done = page.getByTestId('finished-session');
    await done.waitFor();
    expect(remote).toEqual(['start:1:ANN-1', `stop:${annTx}`]);
    await poll(() => done.innerText()).toMatch(/1\.00[\s\S]*2\.50 kWh/);
    await page.locator(`li[data-transaction="${annTx}"]`).getByText(/1\.00/).waitFor();
    await poll(() => page.getByTestId('statement').innerText()).toMatch(/1\.00[\s\S]*1 session · 2\.5 kWh/);
    await page.screenshot({ path: join(shots, 'phone-drive-finished.png'), fullPage: true });
  }, SLOW);

  it('joins the line when every charger is busy and is told live when it is their turn', async () => {
    await page.getByTestId('finished-session').getByRole('button', { name: 'Close' }).click();
    await status(cp1, 1, 'Charging');
    await status(cp1, 2, 'Charging');
    const busy = page.getByRole('heading', { name: 'All chargers are busy' });
    await busy.waitFor();
    await page.getByRole('button', { name: 'Join the line', exact: true }).click();
    const waiting = page.getByTestId('hold-waiting');
    await waiting.getByText("You're in line · #1").waitFor();
    await page.screenshot({ path: join(shots, 'phone-drive-waiting.png') });

    await cp2.call('StopTransaction', { transactionId: bobTx, meterStop: 5000, timestamp: now(), reason: 'EVDisconnected' });
    await status(cp2, 1, 'Available');
    const offer = page.getByTestId('hold-offer');
    await offer.getByText('CP2 · connector 1 is held for you').waitFor();
    await poll(() => offer.getByTestId('countdown').innerText()).toMatch(/^[45]:\d\d$/);
    await poll(() => connector('CP2', 1).getAttribute('data-availability')).toBe('mine');
    await page.screenshot({ path: join(shots, 'phone-drive-your-turn.png') });
  }, SLOW);

  it('shows the operator\'s site plan with a pin per charger in its colour', async () => {
    // A plan drawn on the spot: two parking bays.
    const draw = await browser.newPage({ viewport: { width: 640, height: 300 } });
    await draw.setContent(`<body style="margin:0"><svg width="640" height="300" xmlns="http://www.w3.org/2000/svg">
      <rect width="640" height="300" fill="#e5e7eb"/><rect x="0" y="120" width="640" height="60" fill="#9ca3af"/>
      <rect x="80" y="20" width="160" height="90" fill="#f9fafb" stroke="#6b7280" stroke-width="3"/>
      <rect x="400" y="20" width="160" height="90" fill="#f9fafb" stroke="#6b7280" stroke-width="3"/>
      <text x="300" y="250" font-family="sans-serif" font-size="22" fill="#374151">Entrance</text></svg></body>`);
    const image = await draw.screenshot({ type: 'png' });
    await draw.close();
    const admin = await t.login();
    const up = await fetch(`${t.url}/api/reservations/site-plan`, { method: 'POST', body: new Uint8Array(image), headers: { 'content-type': 'image/png', authorization: `Bearer ${admin}` } });
    expect(up.status).toBe(201);
    expect((await t.api('PUT', '/reservations/site-plan/pins', { body: [{ chargerId: 'CP1', x: 0.25, y: 0.3 }, { chargerId: 'CP2', x: 0.75, y: 0.3 }] })).status).toBe(200);

    await page.reload();
    const plan = page.getByTestId('site-plan');
    await plan.locator('img').waitFor();
    await poll(() => plan.locator('img').evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(640);
    await poll(() => plan.locator('[data-pin="CP2"]').getAttribute('class')).toMatch(/tone-green/);
    await poll(() => plan.locator('[data-pin="CP1"]').getAttribute('class')).toMatch(/tone-blue/);
    await page.screenshot({ path: join(shots, 'phone-drive-site-plan.png') });
  }, SLOW);

  it('shows operators the reservations, the waitlist and the no-shows', async () => {
    const desk = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const op = await desk.newPage();
    op.on('console', (msg) => { if (msg.type() === 'error' && !pendingRoute404(msg)) problems.push(`operator: ${msg.text()}`); });
    op.on('pageerror', (err) => problems.push(`operator: ${err.message}`));
    await status(cp1, 2, 'Available');
    await driver(t, 'cid', 'CID-1');
    await op.goto(t.url);
    await op.getByLabel('Username').fill('admin');
    await op.getByLabel('Password').fill(ADMIN_PASSWORD);
    await op.getByRole('button', { name: 'Sign in' }).click();
    await op.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await op.goto(`${t.url}/#/p/reservations`);
    await op.getByRole('heading', { name: 'Reservations', level: 1 }).waitFor();
    await op.getByTestId('waitlist').getByText('Ann Driver').waitFor();

    await op.getByLabel('Charger', { exact: true }).selectOption('CP1');
    await op.getByLabel('Driver', { exact: true }).selectOption({ label: 'cid' });
    await op.getByRole('button', { name: 'Reserve', exact: true }).click();
    await op.getByTestId('active-reservations').getByText('CID-1').waitFor();
    const [r] = (await t.api('GET', '/reservations?state=active')).body;
    expect(r).toMatchObject({ chargerId: 'CP1', connectorId: 2, idTag: 'CID-1', createdBy: 'admin' });
    await op.getByTestId('no-shows').getByText('Ann Driver').waitFor();
    await op.getByRole('heading', { name: 'Site plan' }).waitFor();
    await op.screenshot({ path: join(shots, 'desktop-reservations.png'), fullPage: true });
    await desk.close();
  }, SLOW);

  it('is installable: a manifest with icons and a service worker that never caches the API', async () => {
    const manifest = await (await fetch(`${t.url}/manifest.webmanifest`)).json() as { icons: Array<{ src: string; sizes: string }>; display: string; start_url: string };
    expect(manifest).toMatchObject({ display: 'standalone', start_url: '/' });
    for (const icon of manifest.icons) expect((await fetch(`${t.url}${icon.src}`)).status, icon.src).toBe(200);
    expect(manifest.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    expect(scope).toBe(`${t.url}/`);
    await page.reload();
    await page.getByRole('heading', { name: 'Charge', level: 1, exact: true }).waitFor();
    const cached = await page.evaluate(async () => {
      const out: string[] = [];
      for (const name of await caches.keys()) for (const req of await (await caches.open(name)).keys()) out.push(new URL(req.url).pathname);
      return out;
    });
    expect(cached).toContain('/');
    expect(cached.some((p) => p.startsWith('/assets/'))).toBe(true);
    expect(cached.filter((p) => p.startsWith('/api/'))).toEqual([]);
  }, SLOW);
});
