// The console's browser tests are test code: this file is only imported by *.int-spec.ts files next to it.
// eslint-disable-next-line no-restricted-imports
import { saveScreenshot, seriousAxeViolations, waitFor } from '@mailwarden/testing';
import type { Page } from 'playwright-core';
import type { ConsoleUser } from './console-stack';

/** Signs `user` in through the sign-in form; the console lands on its home page. */
export async function signIn(page: Page, user: ConsoleUser): Promise<void> {
  await page.goto('/console/sign-in');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => !url.pathname.endsWith('/sign-in'));
}

/**
 * Checks a page as it is now: no serious axe violation, and a screenshot in English and in Japanese (switched with
 * the language menu, as a person would), each path added to `screenshots`.
 */
export function pageChecker(screenshots: string[]): (page: Page, name: string) => Promise<void> {
  return async (page, name) => {
    await page.locator('h1').first().waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    screenshots.push(await saveScreenshot(page, 'en', name));
    const english = await page.locator('h1').first().textContent();
    const menu = page.locator('header select');
    if ((await menu.count()) > 0) {
      await menu.selectOption('ja');
      // The page's own labels turn Japanese (a subject or an address in the heading may not).
      await waitFor(async () => (await page.locator('html').getAttribute('lang')) === 'ja' && /[\u3040-\u30ff\u4e00-\u9fff]/.test((await page.locator('main').innerText()) ?? ''), `${name} in Japanese`, 10_000);
      expect(await page.locator('html').getAttribute('lang')).toBe('ja');
      expect(await seriousAxeViolations(page)).toEqual([]);
      screenshots.push(await saveScreenshot(page, 'ja', name));
      await menu.selectOption('en');
      await waitFor(
        async () => (await page.locator('h1').first().textContent()) === english && !/[\u3040-\u30ff\u4e00-\u9fff]/.test((await page.locator('main').innerText()) ?? ''),
        `${name} back in English`,
        10_000,
      );
    }
  };
}

