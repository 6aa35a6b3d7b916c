// What the browser test files share: the demo password, logging in, unique names, and failing
// a test on any error the page itself reports (a wasm that will not start only shows up there).
import { expect, test, type Page } from '@playwright/test';

export const PASSWORD = 'partlogic-demo';

/** Fails every test of the calling file whose page reports an error. */
export function failOnPageErrors() {
  test.beforeEach(async ({ page }) => {
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error' && !m.text().includes('Failed to load resource')) problems.push(`console: ${m.text()}`); });
    (page as unknown as { problems: string[] }).problems = problems;
  });
  test.afterEach(async ({ page }) => {
    expect((page as unknown as { problems: string[] }).problems).toEqual([]);
  });
}

/** Logs in through the form and waits for Integrations. */
export async function login(page: Page, email: string) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: 'Integrations' })).toBeVisible();
}

/** A name no earlier run used. */
export function unique(prefix: string) {
  return `${prefix} ${Date.now().toString(36)}`;
}
