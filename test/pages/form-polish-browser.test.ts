import type { ExecutionContext } from 'ava';
import type { Page } from 'playwright-core';
import { browserTest } from '../helpers/browser.ts';
import { latestCode } from '../helpers/outbox.ts';
import { startTestServer } from '../helpers/server.ts';
import { otherThan } from '../helpers/sign-in-pages.ts';
import { checkPage, VIEWPORTS, type Viewport, watchComplaints } from '../helpers/viewport-pages.ts';

/** The page in light and in dark, each kept as a screenshot (`<name>-<viewport>.png`, `<name>-dark-<viewport>.png`). */
async function lightAndDark(t: ExecutionContext, page: Page, viewport: Viewport, name: string, title: string) {
  await page.emulateMedia({ colorScheme: 'light' });
  await checkPage(t, page, viewport, name, title);
  await page.emulateMedia({ colorScheme: 'dark' });
  await checkPage(t, page, viewport, `${name}-dark`, title);
  await page.emulateMedia({ colorScheme: 'light' });
}

const SECTIONS = [
  ['Overview', '/account'],
  ['Sign-in & security', '/account/security'],
  ['Passkeys', '/account/passkeys'],
  ['Sign-in providers', '/account/providers'],
  ['Devices', '/account/sessions'],
  ['Connected apps', '/account/apps'],
  ['Environments', '/account/environments'],
  ['Developer', '/account/developer'],
  ['Activity', '/account/activity'],
  ['Your data', '/account/data'],
] as const;

for (const viewport of ['phone', 'desktop'] as const) {
  browserTest(
    `a wrong code is marked at its field, and every account section has two rows of tabs at most and a way to sign out (${viewport})`,
    async (t) => {
      const server = await startTestServer(t);
      const email = `lark-${viewport}@example.com`;
      const page = await VIEWPORTS[viewport].open(t);
      // The narrowest phones in common use are 360 px wide.
      if (viewport === 'phone') await page.setViewportSize({ width: 360, height: 740 });
      const complaints = watchComplaints(page);

      await page.goto(`${server.url}/account`);
      await page.locator('#identifier').fill(email);
      await page.locator('form[action$="/email"] button[type="submit"]').click();
      await page.waitForURL(/\/interaction\/[^/]+\/code$/);
      const code = page.locator('#code');
      t.is(await code.getAttribute('aria-invalid'), null, 'nothing is marked before a try');
      await code.fill(otherThan(await latestCode(server.url, email)));
      await page.locator('form[action$="/code"] button[type="submit"]').click();
      await page.getByRole('alert').waitFor();
      t.is(await code.getAttribute('aria-invalid'), 'true');
      t.is(await code.getAttribute('aria-describedby'), 'code-error');
      const atField = (await page.locator('#code-error').textContent())?.trim();
      t.regex(atField ?? '', /^That code is not right\. \d+ tries? left\.$/);
      // The summary says the same and leads to the field.
      const summary = page.getByRole('alert').getByRole('link', { name: atField });
      t.is(await summary.getAttribute('href'), '#code');
      await lightAndDark(t, page, viewport, 'code-wrong', 'Check your email');

      await code.fill(await latestCode(server.url, email));
      await page.locator('form[action$="/code"] button[type="submit"]').click();
      await page.waitForURL((url) => url.pathname === '/account');

      for (const [section, path] of SECTIONS) {
        const nav = page.getByRole('navigation', { name: 'Your account' });
        if (new URL(page.url()).pathname !== path) {
          await nav.getByRole('link', { name: section, exact: true }).click();
          await page.waitForURL((url) => url.pathname === path);
        }
        const rows = await page.$$eval(
          '.account-nav li',
          (items) => new Set(items.map((item) => item.getBoundingClientRect().top)).size,
        );
        t.true(rows <= 2, `${path}: the tabs take ${rows} rows`);
        const current = nav.getByRole('link', { name: section, exact: true });
        t.is(await current.getAttribute('aria-current'), 'page');
        const box = await current.boundingBox();
        const width = page.viewportSize()?.width ?? 0;
        t.true(!!box && box.x >= 0 && box.x + box.width <= width, `${path}: its own tab is in view`);
        const signOut = page.getByRole('link', { name: 'Sign out', exact: true }).first();
        t.true(await signOut.isVisible(), `${path}: "Sign out" is on the page`);
        t.is(await signOut.getAttribute('href'), '/session/end');
      }
      await lightAndDark(t, page, viewport, 'account-tabs', 'Your data');

      await page.getByRole('link', { name: 'Sign out', exact: true }).first().click();
      await page.getByRole('heading', { level: 1, name: 'Sign out?' }).waitFor();
      t.deepEqual(complaints, []);
    },
  );
}
