import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, CDPSession, Page, Worker } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventually, launchProfile, signIn, skipBrowser, type TestApp, useApp, useBrowser, watchErrors } from '../../tests/kit/index.js';
import { startPushService } from './test-kit.js';
import { driver } from '../reservations/test-kit.js';

const shots = join(import.meta.dirname, '..', '..', 'tests', 'e2e', 'screenshots');
const SLOW = 90_000;

/** What registration.getNotifications() tells about one notification, read inside the page or the worker. */
interface Shown {
  title: string;
  body: string;
  tag: string;
  actions: Array<{ action: string; title: string }>;
  data: { url?: string; ackUrl?: string | null; alertId?: number | null } | null;
}

// What the tests use inside the service worker: the server's tsconfig has the DOM lib, not WebWorker.
interface WorkerScope extends EventTarget {
  registration: ServiceWorkerRegistration;
  errorsSeen: string[];
}
declare const NotificationEvent: { new (type: string, init: { notification: Notification; action?: string }): Event };

interface Payload { title: string; body: string; tag: string; ackUrl: string; url: string; alert: { id: number; chargerId: string } }

describe.skipIf(skipBrowser('web push UI'))('web push in Chromium: the bell, the service worker, the drivers\' switch', () => {
  let t: TestApp;
  const apps = useApp();
  let svc: Awaited<ReturnType<typeof startPushService>>;
  const browser = useBrowser();
  const pages: Page[] = [];

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    svc = await startPushService();
    t = await apps.start({
      config: {
        plugins: {
          users: {}, reservations: {},
          alerts: { channels: [{ name: 'phones', type: 'webpush', accounts: ['admin'], subject: 'mailto:ops@example.org', caFile: svc.caFile }] },
        },
      },
    });
  }, 60_000);

  afterAll(async () => {
    await svc?.close();
  }, SLOW);

  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      for (const [i, p] of pages.entries()) {
        await p.screenshot({ path: join(shots, `failed-push-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}-${i}.png`), fullPage: true }).catch(() => undefined);
      }
    });
    pages.length = 0;
  });

  const signInDriver = async (page: Page) => {
    await page.goto(t.url);
    await page.getByLabel('Username').fill('ann');
    await page.getByLabel('Password').fill('ann-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Charge', level: 1, exact: true }).waitFor();
  };

  const storedSubscriptions = async () => ((await t.app.db('alerts_push_subscriptions').count({ n: '*' }).first()) as { n: number }).n;

  it('shows the bell to an operator; turning it on without internet ends in words, and nothing is stored', async () => {
    // A profile on disk: Chromium refuses push outright in incognito-like contexts, which is the next test.
    const { context, close } = await launchProfile({ viewport: { width: 1280, height: 900 } });
    try {
      await context.grantPermissions(['notifications'], { origin: t.url });
      const page = await context.newPage();
      pages.push(page);
      page.setDefaultTimeout(10_000);
      const problems = watchErrors(page);
      await signIn(page, t.url);
      const bell = page.getByTestId('push-bell');
      await expect.poll(() => bell.getAttribute('data-state')).toBe('off');
      const button = bell.getByRole('button', { name: 'Push alerts: off' });
      await button.click();
      // Chromium's own push service is out of reach here: its registration never answers, the page gives up in words.
      const error = bell.getByRole('alert');
      await error.waitFor({ timeout: 40_000 });
      expect(await error.innerText()).toBe('The push service could not be reached: push needs internet, for this device and for the ChargeKeeper box.');
      await expect.poll(() => bell.getAttribute('data-state')).toBe('off');
      await bell.getByRole('button', { name: 'Push alerts: off' }).waitFor();
      await page.screenshot({ path: join(shots, 'desktop-push-bell-offline.png') });
      expect(await storedSubscriptions()).toBe(0);
      expect(await page.evaluate(() => localStorage.getItem('chargekeeper.push'))).toBeNull();
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  }, SLOW);

  it('says so when the browser refuses push in a private window', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['notifications'], { origin: t.url });
    const page = await context.newPage();
    pages.push(page);
    page.setDefaultTimeout(10_000);
    await signIn(page, t.url);
    const bell = page.getByTestId('push-bell');
    await bell.getByRole('button', { name: 'Push alerts: off' }).click();
    await bell.getByRole('alert').getByText('The browser refused push in this window. Private and incognito windows cannot receive push.').waitFor();
    expect(await storedSubscriptions()).toBe(0);
    await context.close();
  }, SLOW);

  it('turns on and off again: the subscription the bell hands over is stored for the account, alerts go to it, and the second click removes it', async () => {
    // Chromium's push service is out of reach here, so PushManager alone is replaced, by a subscription the
    // push service stand-in holds the keys of; the page, the box's routes and the channel are the real ones.
    const sub = svc.subscribe('bell-browser');
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['notifications'], { origin: t.url });
    await context.addInitScript((json) => {
      let current: PushSubscription | null = null;
      const w = window as unknown as { unsubscribed: number };
      w.unsubscribed = 0;
      PushManager.prototype.subscribe = async function () {
        current = { endpoint: json.endpoint, expirationTime: null, toJSON: () => json, unsubscribe: async () => { current = null; w.unsubscribed++; return true; } } as unknown as PushSubscription;
        return current;
      };
      PushManager.prototype.getSubscription = async function () { return current; };
    }, sub);
    const page = await context.newPage();
    pages.push(page);
    page.setDefaultTimeout(10_000);
    const problems = watchErrors(page);
    await signIn(page, t.url);
    const bell = page.getByTestId('push-bell');
    await bell.getByRole('button', { name: 'Push alerts: off' }).click();
    await bell.getByRole('button', { name: 'Push alerts: on' }).waitFor();
    expect(await bell.getByRole('button').getAttribute('aria-pressed')).toBe('true');
    const rows = await t.app.db('alerts_push_subscriptions').where({ endpoint: sub.endpoint });
    expect(rows).toMatchObject([{ username: 'admin', p256dh: sub.keys.p256dh, auth: sub.keys.auth }]);
    expect(JSON.parse(await page.evaluate(() => localStorage.getItem('chargekeeper.push') ?? 'null'))).toEqual({ id: rows[0].id, endpoint: sub.endpoint, username: 'admin' });
    await page.screenshot({ path: join(shots, 'desktop-push-bell-on.png'), clip: { x: 0, y: 600, width: 236, height: 300 } });

    const before = svc.messages.length;
    t.app.bus.emit('finding.raised', {
      id: 40, check: 'offline', chargerId: 'CP4', connectorId: null, severity: 'critical',
      message: 'CP4 is offline', action: 'Check its power and network', state: 'active', since: t.clock.iso(), clearedAt: null,
    });
    await eventually(() => svc.messages.some((m, i) => i >= before && m.path === '/push/bell-browser'), 10_000);

    await bell.getByRole('button', { name: 'Push alerts: on' }).click();
    await bell.getByRole('button', { name: 'Push alerts: off' }).waitFor();
    expect(await t.app.db('alerts_push_subscriptions').where({ endpoint: sub.endpoint })).toEqual([]);
    expect(await page.evaluate(() => [localStorage.getItem('chargekeeper.push'), (window as unknown as { unsubscribed: number }).unsubscribed])).toEqual([null, 1]);
    expect(await bell.getByRole('alert').count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  }, SLOW);

  describe('the service worker', () => {
    let context: BrowserContext;
    let page: Page;
    let worker: Worker;
    let cdp: CDPSession;
    let registrationId = '';
    let problems: string[];
    /** The alert push the box sent to the stand-in, decrypted there. */
    let payload: Payload;

    const notifications = () => page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      return (await reg.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, actions: [...((n as unknown as { actions?: Array<{ action: string; title: string }> }).actions ?? [])], data: n.data as Shown['data'] }));
    });
    /**
     * Uncaught errors inside the worker. A click event made by a script cannot be kept open with
     * waitUntil() (Chromium throws "script constructed ExtendableEvent" once the handler's work has
     * started); that one is the test's doing and left out, any other error counts.
     */
    const workerErrors = () => worker.evaluate(() => ((self as unknown as Partial<WorkerScope>).errorsSeen ?? []))
      .then((list) => list.filter((m) => !/script constructed ExtendableEvent/.test(m)));
    /**
     * Delivers a push as the browser's push service would, until a notification it shows is there.
     * Chromium drops a push that reaches a worker still starting on a busy machine, without a word;
     * delivering again is harmless because a notification replaces the one with its tag.
     */
    const deliver = async (data: string, shows: (n: Shown) => boolean) => {
      const until = Date.now() + 20_000;
      for (;;) {
        await cdp.send('ServiceWorker.deliverPushMessage', { origin: t.url, registrationId, data });
        const seen = Date.now() + 2_500;
        while (Date.now() < seen) {
          if ((await notifications()).some(shows)) return;
          await new Promise((r) => setTimeout(r, 100));
        }
        if (Date.now() > until) throw new Error(`the worker showed no notification for ${data.slice(0, 40)}`);
      }
    };

    beforeAll(async () => {
      // The alert's charger is real, so a tap that opens its page finds it.
      const cp = await t.chargePoint('CP9');
      expect((await cp.boot()).status).toBe('Accepted');
      context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.grantPermissions(['notifications'], { origin: t.url });
      page = await context.newPage();
      page.setDefaultTimeout(10_000);
      problems = watchErrors(page);
      const started = context.waitForEvent('serviceworker');
      await signIn(page, t.url);
      worker = context.serviceWorkers()[0] ?? await started;
      cdp = await context.newCDPSession(page);
      cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => {
        const reg = e.registrations.find((r) => !r.isDeleted && r.scopeURL === `${t.url}/`);
        if (reg) registrationId = reg.registrationId;
      });
      await cdp.send('ServiceWorker.enable');
      await eventually(() => registrationId !== '', 10_000);
      // A push reaches only an activated worker; under load activation trails the registration.
      await eventually(() => page.evaluate(async () => (await navigator.serviceWorker.ready).active?.state === 'activated'), 20_000);
      await worker.evaluate(() => {
        const sw = self as unknown as WorkerScope;
        sw.errorsSeen = [];
        sw.addEventListener('error', (e) => sw.errorsSeen.push((e as ErrorEvent).message));
        sw.addEventListener('unhandledrejection', (e) => sw.errorsSeen.push(String((e as PromiseRejectionEvent).reason)));
      });
    }, SLOW);

    afterAll(async () => {
      await context?.close();
    });

    it('shows a real alert push with an Acknowledge button, and the button acknowledges the alert through its one-time link', async () => {
      pages.push(page);
      // The box's side for real: a subscription at the push service stand-in, an alert raised, the push it sent decrypted there.
      expect((await t.api('POST', '/push/subscriptions', { body: svc.subscribe('admin-phone') })).status).toBe(201);
      t.app.bus.emit('finding.raised', {
        id: 41, check: 'connector-fault', chargerId: 'CP9', connectorId: 1, severity: 'critical',
        message: 'Connector 1 of CP9 reports a ground fault', action: 'Check the cable and the RCD', state: 'active', since: t.clock.iso(), clearedAt: null,
      });
      const sent = await eventually(() => svc.messages.find((m) => m.path === '/push/admin-phone' && m.json.alert.chargerId === 'CP9'), 10_000);
      expect(svc.errors).toEqual([]);
      payload = sent!.json as Payload;
      expect(payload.ackUrl).toContain('/api/alerts/ack/');

      // The same bytes, now as a push event the browser itself delivers to the worker.
      await deliver(JSON.stringify(payload), (n) => n.tag === payload.tag);
      await expect.poll(async () => (await notifications()).find((n) => n.tag === payload.tag), { timeout: 10_000 }).toMatchObject({
        title: payload.title, body: payload.body, actions: [{ action: 'ack', title: 'Acknowledge' }],
        data: { ackUrl: payload.ackUrl, alertId: payload.alert.id },
      });
      expect(payload.title).toContain('CP9');
      expect(payload.body).toBe('Connector 1 of CP9 reports a ground fault');
      expect((await t.api('GET', `/alerts/${payload.alert.id}`)).body).toMatchObject({ state: 'open' });

      // No CDP command clicks a notification: the worker gets the click event made from the notification it shows.
      const clicked = await worker.evaluate(async (tag) => {
        const sw = self as unknown as WorkerScope;
        const [n] = await sw.registration.getNotifications({ tag });
        if (!n) return 'no notification';
        sw.dispatchEvent(new NotificationEvent('notificationclick', { notification: n, action: 'ack' }));
        return 'clicked';
      }, payload.tag);
      expect(clicked).toBe('clicked');
      await expect.poll(async () => (await t.api('GET', `/alerts/${payload.alert.id}`)).body, { timeout: 10_000 })
        .toMatchObject({ state: 'acknowledged', acknowledgedBy: 'link:phones' });
      await expect.poll(async () => (await notifications()).map((n) => n.title), { timeout: 10_000 }).toEqual([`Alert #${payload.alert.id} acknowledged`]);
      // It opened no window: the operator's one page is all there is.
      expect(context.pages()).toEqual([page]);

      // The link was one-time: a second press says so instead of pretending.
      const again = await worker.evaluate(async (data) => {
        const sw = self as unknown as WorkerScope;
        await sw.registration.showNotification('again', { tag: 'again', data });
        const [n] = await sw.registration.getNotifications({ tag: 'again' });
        sw.dispatchEvent(new NotificationEvent('notificationclick', { notification: n!, action: 'ack' }));
        return n!.data as unknown;
      }, { url: payload.url, ackUrl: payload.ackUrl, alertId: payload.alert.id });
      expect(again).toMatchObject({ ackUrl: payload.ackUrl });
      await expect.poll(async () => (await notifications()).find((n) => n.tag === `ack-${payload.alert.id}`), { timeout: 10_000 }).toMatchObject({
        title: `Alert #${payload.alert.id} was not acknowledged`, body: 'This link was already used or has expired. Open the app to see the alert.',
      });
      expect(problems).toEqual([]);
      expect(await workerErrors()).toEqual([]);
    }, SLOW);

    it('takes a tap on the notification to the page it is about, in the open window', async () => {
      pages.push(page);
      await deliver(JSON.stringify({ ...payload, tag: 'tap-me' }), (n) => n.tag === 'tap-me');
      await expect.poll(async () => (await notifications()).some((n) => n.tag === 'tap-me'), { timeout: 10_000 }).toBe(true);
      await worker.evaluate(async () => {
        const sw = self as unknown as WorkerScope;
        const [n] = await sw.registration.getNotifications({ tag: 'tap-me' });
        sw.dispatchEvent(new NotificationEvent('notificationclick', { notification: n! }));
      });
      // The alert's link names the box by its public URL; the app window on this origin shows that charger.
      await expect.poll(() => new URL(page.url()).hash, { timeout: 10_000 }).toBe('#/chargers/CP9');
      await page.getByRole('heading', { name: 'CP9', level: 1 }).waitFor();
      expect(context.pages()).toEqual([page]);
      expect(await notifications().then((l) => l.some((n) => n.tag === 'tap-me'))).toBe(false);
      expect(problems).toEqual([]);
      expect(await workerErrors()).toEqual([]);
    }, SLOW);

    it('shows a driver notice without an Acknowledge button, and something generic for a payload it cannot read', async () => {
      pages.push(page);
      await deliver(JSON.stringify({ title: 'Charging finished', body: 'CP2 is done: 12.4 kWh', tag: 'driver-session-finished', url: '/#/p/drive', notice: 'driver', kind: 'session-finished' }), (n) => n.tag === 'driver-session-finished');
      await expect.poll(async () => (await notifications()).find((n) => n.tag === 'driver-session-finished'), { timeout: 10_000 })
        .toMatchObject({ title: 'Charging finished', body: 'CP2 is done: 12.4 kWh', actions: [], data: { url: '/#/p/drive', ackUrl: null } });
      await deliver('this is not JSON', (n) => n.title === 'ChargeKeeper');
      await expect.poll(async () => (await notifications()).find((n) => n.title === 'ChargeKeeper'), { timeout: 10_000 })
        .toMatchObject({ body: 'Something needs your attention. Open the app to see it.', actions: [] });
      expect(problems).toEqual([]);
      expect(await workerErrors()).toEqual([]);
    }, SLOW);
  });

  it('gives drivers a "Notify me on this phone" switch, off until they turn it on, and reads their preferences from the box', async () => {
    await driver(t, 'ann', 'ANN-1');
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const page = await context.newPage();
    pages.push(page);
    page.setDefaultTimeout(10_000);
    const problems = watchErrors(page);
    const asked: string[] = [];
    page.on('response', (r) => { if (r.url().endsWith('/api/push/preferences')) asked.push(`${r.request().method()} ${r.status()}`); });
    await signInDriver(page);
    const card = page.getByTestId('notify-card');
    await card.getByRole('switch', { name: 'Notify me on this phone' }).waitFor();
    await expect.poll(() => card.getAttribute('data-state')).toBe('off');
    await expect.poll(() => asked).toEqual(['GET 200']);
    expect(await card.getByRole('alert').count()).toBe(0);
    await card.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'phone-drive-notify-off.png') });
    expect(problems).toEqual([]);
    await context.close();
  }, SLOW);

  it('shows and saves the per-kind switches and quiet hours once the box answers for them', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const page = await context.newPage();
    pages.push(page);
    page.setDefaultTimeout(10_000);
    const problems = watchErrors(page);
    // The route is not on this box yet: the page is answered as the documented route will answer, and what it sends is kept.
    let stored = {
      kinds: { 'session-finished': true, 'car-idle': true, 'reservation-expiring': false, 'queue-turn': true, 'card-refused': true },
      quietHours: null as { from: string; to: string } | null,
    };
    const puts: unknown[] = [];
    await page.route('**/api/push/preferences', async (route) => {
      if (route.request().method() === 'PUT') {
        stored = route.request().postDataJSON() as typeof stored;
        puts.push(stored);
      }
      await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(stored) });
    });
    await signInDriver(page);
    const prefs = page.getByTestId('notify-preferences');
    await prefs.waitFor();
    for (const label of ['Charging finished', 'Car idle, please move it', 'Reservation about to expire', 'Your turn in the queue', 'Card refused']) {
      await prefs.getByRole('switch', { name: label }).waitFor();
    }
    expect(await prefs.getByRole('switch', { name: 'Reservation about to expire' }).isChecked()).toBe(false);
    await prefs.getByRole('switch', { name: 'Car idle, please move it' }).click();
    await expect.poll(() => puts.length).toBe(1);
    expect(puts[0]).toEqual({ ...stored, kinds: { 'session-finished': true, 'car-idle': false, 'reservation-expiring': false, 'queue-turn': true, 'card-refused': true }, quietHours: null });
    // null is "the site's quiet hours", from = to is "none".
    const quiet = prefs.getByLabel('Quiet hours');
    expect(await quiet.inputValue()).toBe('site');
    await quiet.selectOption('none');
    await expect.poll(() => puts.length).toBe(2);
    expect((puts[1] as typeof stored).quietHours).toEqual({ from: '00:00', to: '00:00' });
    expect(await prefs.getByLabel('to', { exact: true }).count()).toBe(0);
    await quiet.selectOption('own');
    await expect.poll(() => puts.length).toBe(3);
    expect((puts[2] as typeof stored).quietHours).toEqual({ from: '22:00', to: '07:00' });
    await prefs.getByLabel('to', { exact: true }).fill('06:30');
    await prefs.getByLabel('to', { exact: true }).dispatchEvent('change');
    await expect.poll(() => (puts.at(-1) as typeof stored).quietHours).toEqual({ from: '22:00', to: '06:30' });
    await page.getByText('Saved.').waitFor();
    await page.getByTestId('notify-card').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'phone-drive-notify-preferences.png') });
    expect(problems).toEqual([]);
    await context.close();
  }, SLOW);
});
