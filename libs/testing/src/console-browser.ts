import { readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** Debian's Chromium (installed by tools/scripts/ensure-test-programs.cjs and .ci/run): playwright-core downloads none. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Where the console's browser tests save their screenshots: tmp/console-screenshots/<language>/<page>.png (gitignored). */
export const SCREENSHOT_DIR = path.resolve(__dirname, '..', '..', '..', 'tmp', 'console-screenshots');

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS, timeout: 30_000 });
}

/**
 * A browser context (its own cookies: one signed-in person) whose pages record every Content-Security-Policy
 * violation and uncaught page error, so a test can assert the console ran under its real CSP without one.
 */
export async function newConsoleContext(browser: Browser, baseUrl: string): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  // Certificate errors are ignored: the only https host the tests use is the fake identity platform's TLS front.
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 860 }, locale: 'en-US', ignoreHTTPSErrors: true });
  const problems: string[] = [];
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) problems.push(`csp: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.setDefaultTimeout(15_000);
  return { context, page, problems };
}

const AXE_SOURCE_PATH = require.resolve('axe-core/axe.min.js');
let axeSource: string | null = null;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: number;
  targets: string[];
}

/**
 * Runs axe-core on the page as it is (injected through the DevTools protocol, which the page's CSP does not
 * govern) and returns the serious and critical violations.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(AXE_SOURCE_PATH, 'utf8');
  const loaded = await page.evaluate('typeof window.axe');
  if (loaded === 'undefined') {
    await page.evaluate(`${axeSource}\n;void 0;`);
  }
  const violations = (await page.evaluate(`window.axe.run(document, { resultTypes: ['violations'] }).then((result) => result.violations.map((violation) => ({
      id: violation.id, impact: violation.impact, help: violation.help, nodes: violation.nodes.length,
      targets: violation.nodes.slice(0, 5).map((node) => String(node.target)),
    })))`)) as AxeViolation[];
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

/** Saves a full-page screenshot as tmp/console-screenshots/<language>/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, language: string, name: string): Promise<string> {
  const directory = path.join(SCREENSHOT_DIR, language);
  mkdirSync(directory, { recursive: true });
  const file = path.join(directory, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
