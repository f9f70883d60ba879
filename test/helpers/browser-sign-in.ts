import type { Page } from 'playwright-core';
import { latestCode } from './outbox.ts';
import type { TestServer } from './server.ts';

/** Signs in through the hosted pages, in a real browser, from wherever `page` was sent to sign in, by email code. */
export async function signInByEmailCode(server: TestServer, page: Page, email: string) {
  // A browser that signed in before is offered "Continue as …" first; this types the address anyway.
  await page.locator('#identifier, .last-identifier').first().waitFor();
  if (await page.locator('.last-identifier').count())
    await page.getByRole('link', { name: 'Use another account' }).click();
  await page.locator('#identifier').fill(email);
  await page.locator('form[action$="/email"] button[type="submit"]').click();
  await page.waitForURL(/\/interaction\/[^/]+\/code$/);
  await page.locator('#code').fill(await latestCode(server.url, email));
  await page.locator('form[action$="/code"] button[type="submit"]').click();
}
