import type { Page } from 'playwright-core';
// Test code: this file is only imported by *.int-spec.ts files next to it.
// eslint-disable-next-line no-restricted-imports
import { saveScreenshot, seriousAxeViolations, waitFor } from '@mailwarden/testing';
import type { ConsoleUser } from './console-stack';

/** Signs `user` in through the sign-in form (and the TOTP code when given); the console lands on its home page. */
export async function signIn(page: Page, user: ConsoleUser, totpCode?: () => Promise<string>): Promise<void> {
  await page.goto('/console/sign-in');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  if (totpCode) {
    const field = page.getByLabel('Authenticator code', { exact: false });
    await field.fill(await totpCode());
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }
  await page.waitForURL((url) => !url.pathname.endsWith('/sign-in'));
}

/** The text of the page's main region, less what is marked as written in a language of its own (`lang`, e.g. language names). */
const mainText = (page: Page): Promise<string> =>
  page.evaluate(`(() => {
    const copy = document.querySelector('main').cloneNode(true);
    copy.querySelectorAll('[lang]').forEach((element) => element.remove());
    return copy.textContent || '';
  })()`) as Promise<string>;

const JAPANESE = /[\u3040-\u30ff\u4e00-\u9fff]/;

/**
 * Checks the page as it is now: no serious axe violation, and a screenshot in English and in Japanese (switched with
 * the language menu, as a person would). The screenshots' paths are added to `screenshots`.
 */
export async function checkPage(page: Page, name: string, screenshots: string[]): Promise<void> {
  await page.locator('h1').first().waitFor();
  expect(await seriousAxeViolations(page)).toEqual([]);
  screenshots.push(await saveScreenshot(page, 'en', name));
  const english = await page.locator('h1').first().textContent();
  const menu = page.locator('header select');
  if ((await menu.count()) > 0) {
    await menu.selectOption('ja');
    // The page's own labels turn Japanese (a subject or an address in the heading may not).
    await waitFor(async () => (await page.locator('html').getAttribute('lang')) === 'ja' && JAPANESE.test(await mainText(page)), `${name} in Japanese`, 10_000);
    expect(await page.locator('html').getAttribute('lang')).toBe('ja');
    expect(await seriousAxeViolations(page)).toEqual([]);
    screenshots.push(await saveScreenshot(page, 'ja', name));
    await menu.selectOption('en');
    await waitFor(
      async () => (await page.locator('h1').first().textContent()) === english && !JAPANESE.test(await mainText(page)),
      `${name} back in English`,
      10_000,
    );
  }
}

/** `checkPage` bound to one suite's list of screenshots. */
export function pageChecker(screenshots: string[]): (page: Page, name: string) => Promise<void> {
  return (page, name) => checkPage(page, name, screenshots);
}
