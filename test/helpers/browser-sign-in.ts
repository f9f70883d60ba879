import type { Page } from 'playwright-core';
import { latestCode } from './outbox.ts';
import type { TestServer } from './server.ts';

/** Signs in through the hosted pages, in a real browser, from wherever `page` was sent to sign in, by email code. */
export async function signInByEmailCode(server: TestServer, page: Page, email: string) {
  await page.locator('#identifier').fill(email);
  await page.locator('form[action$="/email"] button[type="submit"]').click();
  await page.waitForURL(/\/interaction\/[^/]+\/code$/);
  await page.locator('#code').fill(await latestCode(server.url, email));
  await page.locator('form[action$="/code"] button[type="submit"]').click();
}
