import { signInByEmailCode } from '../helpers/browser-sign-in.ts';
import { browserTest } from '../helpers/browser.ts';
import { checkPage, VIEWPORTS, watchComplaints } from '../helpers/viewport-pages.ts';
import { startTestServer } from '../helpers/server.ts';

for (const viewport of ['phone', 'desktop'] as const) {
  browserTest(
    `the developer page lets a person become a builder, register an app, see its secret once and delete it (${viewport})`,
    async (t) => {
      const server = await startTestServer(t);
      const page = await VIEWPORTS[viewport].open(t);
      const complaints = watchComplaints(page);
      await page.goto(`${server.url}/account/developer`);
      await signInByEmailCode(server, page, `maker-${viewport}@example.com`);
      await page.waitForURL((url) => url.pathname === '/account/developer');
      await checkPage(t, page, viewport, 'account-developer-off', 'Developer');

      await page.getByRole('button', { name: 'Become a builder' }).click();
      await page.waitForURL((url) => url.search === '?done=on');
      await page.getByLabel('Name', { exact: true }).fill('Wren Web');
      await page
        .getByLabel('Redirect URIs', { exact: true })
        .fill('https://wren.example/callback\nhttps://wren.example/other');
      await checkPage(t, page, viewport, 'account-developer-register', 'Developer');
      await page.getByRole('button', { name: 'Register' }).click();
      await page.waitForURL((url) => url.pathname === '/account/developer/clients');
      const secret = (await page.locator('.client-secret').textContent()) ?? '';
      t.true(secret.length >= 40);
      await checkPage(t, page, viewport, 'account-developer-secret', 'App registered');

      await page.getByRole('link', { name: 'Done' }).click();
      await page.waitForURL((url) => url.pathname === '/account/developer');
      t.false((await page.content()).includes(secret), 'the secret is not shown again');
      t.true(await page.getByRole('heading', { name: 'Wren Web' }).isVisible());
      await checkPage(t, page, viewport, 'account-developer-apps', 'Developer');

      await page.getByRole('button', { name: 'Delete Wren Web' }).click();
      await page.waitForURL((url) => url.search === '?done=deleted');
      t.true(await page.getByRole('status').filter({ hasText: 'The app is deleted' }).isVisible());
      t.deepEqual(complaints, []);
    },
  );
}
