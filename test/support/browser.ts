import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';

const repoRoot = join(__dirname, '..', '..');
/**
 * Where the browser specs write the console's screenshots: the data folder on every run (a test run
 * leaves the tracked tree as it was); docs/console, which docs/console.md shows, with
 * KEYWARD_CONSOLE_SCREENSHOTS=docs.
 */
export const SCREENSHOTS =
  process.env.KEYWARD_CONSOLE_SCREENSHOTS === 'docs'
    ? join(repoRoot, 'docs', 'console')
    : join(repoRoot, '.keyward', 'console-screenshots');

/** Debian's Chromium (apt-get install chromium; .ci/run installs it when missing), or CHROMIUM_PATH. */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error('Chromium not found: apt-get install -y chromium (or set CHROMIUM_PATH)');
  return found;
}

/** Headless Chromium; it trusts the spec stack's generated development certificate by ignoring certificate errors. */
export function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--ignore-certificate-errors', '--disable-dev-shm-usage', '--lang=en-US'],
    defaultViewport: { width: 1280, height: 860 },
  });
}

/** A person at the console: their own browser context (cookies of their own), signed in with their API key. */
export async function signedIn(browser: Browser, baseUrl: string, apiKey: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.goto(`${baseUrl}/console/`, { waitUntil: 'load' });
  await page.waitForSelector('#api-key');
  await page.type('#api-key', apiKey);
  await page.click('form.signin button[type=submit]');
  await page.waitForSelector('#sign-out');
  return { context, page };
}

/** Waits until the text of `selector` contains `text`. */
export async function waitForText(page: Page, selector: string, text: string, timeout = 20_000): Promise<void> {
  // A string: these specs compile without the DOM's types (the expression runs in the page).
  await page.waitForFunction(
    `Array.from(document.querySelectorAll(${JSON.stringify(selector)})).some((el) => (el.textContent ?? '').includes(${JSON.stringify(text)}))`,
    { timeout },
  );
}

/** The text of the first element matching `selector` ('' when none). */
export async function textOf(page: Page, selector: string): Promise<string> {
  return String(await page.evaluate(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? ''`));
}

/** An attribute of the first element matching `selector` ('' when none). */
export async function attributeOf(page: Page, selector: string, name: string): Promise<string> {
  return String(await page.evaluate(`document.querySelector(${JSON.stringify(selector)})?.getAttribute(${JSON.stringify(name)}) ?? ''`));
}

/** Clicks the dialog's Confirm button once the confirmation dialog is open. */
export async function confirm(page: Page): Promise<void> {
  await page.waitForSelector('dialog#confirm[open]');
  await page.click('#confirm-ok');
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: number;
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical violations on the page as it is (WCAG 2.1 A/AA rules). axe is
 * evaluated through the DevTools protocol, so the page's CSP (no inline script) stays as served.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
       .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length })))`,
  )) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
