// Shared setup of the browser tests: Debian's Chromium driven by playwright-core.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { ADMIN_PASSWORD } from './app.js';

export const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';
const repo = join(import.meta.dirname, '..', '..');

/**
 * Whether a browser suite should be skipped: only outside CI and only when
 * Chromium is missing, with a loud notice. In CI a missing Chromium fails.
 */
export function skipBrowser(suite: string): boolean {
  if (hasChromium || inCi) return false;
  console.warn(
    `\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n` +
    `!!  ${suite}: browser tests SKIPPED, ${CHROMIUM} is missing.\n` +
    `!!  Install it: apt-get install -y --no-install-recommends chromium\n` +
    `!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n`,
  );
  return true;
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Builds the UI if a source changed and loads playwright-core (here, not at the top: most tests drive no browser). */
async function prepare(): Promise<typeof import('playwright-core').chromium> {
  if (!hasChromium) throw new Error(`${CHROMIUM} is missing: the CI image must install chromium`);
  execFileSync(process.execPath, [join(repo, 'scripts', 'build-ui.mjs')], { cwd: repo, stdio: 'inherit' });
  return (await import('playwright-core')).chromium;
}

/** Builds the UI if a source changed, then starts headless Chromium. */
export async function launchBrowser(): Promise<Browser> {
  const chromium = await prepare();
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** What a test does with the browser of its block: open contexts and pages. */
export type BrowserHandle = Pick<Browser, 'newContext' | 'newPage'>;

/**
 * For one describe block: Chromium launched before the block's own
 * beforeAll hooks and closed after its tests. Called after useApp(), the
 * browser closes before the app stops, so its event streams do not see the
 * server vanish.
 */
export function useBrowser(timeoutMs = 90_000): BrowserHandle {
  let browser: Browser | undefined;
  const launched = (): Browser => {
    if (!browser) throw new Error('the browser is not launched yet: use it in a hook or a test');
    return browser;
  };
  beforeAll(async () => { browser = await launchBrowser(); }, timeoutMs);
  afterAll(async () => { await browser?.close(); }, timeoutMs);
  return {
    newContext: (options) => launched().newContext(options),
    newPage: (options) => launched().newPage(options),
  };
}

/**
 * Chromium with a real profile on disk, removed by close(). Its contexts are not
 * incognito-like, which some features need (Chromium refuses the Push API there).
 */
export async function launchProfile(options: { viewport?: { width: number; height: number } } = {}): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const chromium = await prepare();
  const dir = mkdtempSync(join(tmpdir(), 'chargekeeper-chromium-'));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, args: ARGS, ...options });
  return {
    context,
    async close() {
      await context.close();
      // Chromium may still be writing its profile for a moment after closing.
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

/**
 * Routes the UI already asks for whose server side comes in a later version:
 * it treats their 404 as "not on this box yet", but Chromium still logs the
 * failed fetch as a console error. Remove an entry when its route lands.
 */
const PENDING_ROUTES = [/\/api\/push\/preferences$/];

/** Whether a console message is the 404 of a route in PENDING_ROUTES. */
export function pendingRoute404(msg: ConsoleMessage): boolean {
  return /status of 404/.test(msg.text()) && PENDING_ROUTES.some((r) => r.test(msg.location().url));
}

/** Collects console errors and page errors; statuses a test provokes on purpose can be allowed. */
export function watchErrors(page: Page, allowStatuses: number[] = []): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error' || pendingRoute404(msg)) return;
    const status = /status of (\d{3})/.exec(msg.text());
    if (status && allowStatuses.includes(Number(status[1]))) return;
    problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return problems;
}

/** Signs in through the login form and waits for the first page's heading. */
export async function signIn(page: Page, url: string, username = 'admin', password = ADMIN_PASSWORD, heading = 'Dashboard'): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: heading }).waitFor();
}
