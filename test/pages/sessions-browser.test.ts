import type { ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { signInByEmailCode } from '../helpers/browser-sign-in.ts';
import { browserTest } from '../helpers/browser.ts';
import { discover, pkcePair, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { checkPage, VIEWPORTS, watchComplaints, type Viewport } from '../helpers/viewport-pages.ts';

const EMAIL = 'two-devices@example.com';
const ANDROID_CHROME =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';
const WINDOWS_FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';

/** A browser (its own context, so its own session) signed in to the devices page. */
async function deviceOnSessionsPage(t: ExecutionContext, server: TestServer, viewport: Viewport, userAgent: string) {
  const page = await VIEWPORTS[viewport].open(t);
  // Stands for another kind of device: the devices page names each by its User-Agent.
  await page.route('**/*', (route) =>
    route.continue({ headers: { ...route.request().headers(), 'user-agent': userAgent } }),
  );
  const complaints = watchComplaints(page);
  await page.goto(`${server.url}/account/sessions`);
  await signInByEmailCode(server, page, EMAIL);
  await page.waitForURL((url) => url.pathname === '/account/sessions');
  return { page, complaints };
}

/** An app's silent authorization (prompt=none) in `page`: where the browser comes back to the app. */
async function silentAuthorization(page: Page, config: oidc.Configuration, redirectUri: string) {
  const { challenge } = await pkcePair();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid',
    prompt: 'none',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  await page.goto(url.href);
  await page.waitForURL((landed) => landed.pathname === '/dev/callback');
  return new URL(page.url()).searchParams;
}

browserTest('signing out the other sessions from one browser signs the other browser out', async (t) => {
  const server = await startTestServer(t);
  const redirectUri = `${server.url}/dev/callback`;
  const { clientId, clientSecret } = await registerClient(server.app, {
    name: 'Pixie Notes',
    redirectUris: [redirectUri],
    firstParty: true,
  });
  const config = await discover(server.url, clientId, clientSecret);

  const phone = await deviceOnSessionsPage(t, server, 'phone', ANDROID_CHROME);
  const desktop = await deviceOnSessionsPage(t, server, 'desktop', WINDOWS_FIREFOX);
  // Control: the phone's session lets the app sign the person in silently.
  t.truthy((await silentAuthorization(phone.page, config, redirectUri)).get('code'));

  const sessions = desktop.page.locator('li.session');
  t.is(await sessions.count(), 2);
  t.true(await sessions.filter({ hasText: 'This device' }).filter({ hasText: 'Firefox on Windows' }).isVisible());
  t.true(
    await sessions
      .filter({ hasText: 'Chrome on Android' })
      .getByRole('button', { name: /^Sign out Chrome on Android/ })
      .isVisible(),
  );
  await checkPage(t, desktop.page, 'desktop', 'account-sessions', 'Devices');
  await phone.page.goto(`${server.url}/account/sessions`);
  t.true(await phone.page.locator('li.session.current').filter({ hasText: 'Chrome on Android' }).isVisible());
  await checkPage(t, phone.page, 'phone', 'account-sessions', 'Devices');

  await desktop.page.getByRole('button', { name: 'Sign out all other sessions' }).click();
  await desktop.page.waitForURL((url) => url.search === '?signed-out=others');
  t.true(
    await desktop.page.getByRole('status').filter({ hasText: 'All your other devices are signed out.' }).isVisible(),
  );
  t.is(await sessions.count(), 1);
  t.true(await desktop.page.getByText('You are not signed in anywhere else.').isVisible());
  await checkPage(t, desktop.page, 'desktop', 'account-sessions-others-signed-out', 'Devices');

  await phone.page.goto(`${server.url}/account`);
  t.regex(new URL(phone.page.url()).pathname, /^\/interaction\/[^/]+$/, "the phone's /account asks it to sign in");
  t.is((await silentAuthorization(phone.page, config, redirectUri)).get('error'), 'login_required');

  t.deepEqual(phone.complaints, []);
  t.deepEqual(desktop.complaints, []);
});

for (const viewport of ['phone', 'desktop'] as const) {
  browserTest(
    `signing out this device from the devices page asks first, then says plainly it is done (${viewport})`,
    async (t) => {
      const server = await startTestServer(t);
      const { page, complaints } = await deviceOnSessionsPage(
        t,
        server,
        viewport,
        viewport === 'phone' ? ANDROID_CHROME : WINDOWS_FIREFOX,
      );
      await checkPage(t, page, viewport, 'account-sessions-only-device', 'Devices');

      await page.locator('li.session.current').getByRole('link', { name: 'Sign out' }).click();
      await page.waitForURL((url) => url.pathname === '/session/end');
      t.true(await page.getByText('Do you want to sign out of FairyID on this device?').isVisible());
      await checkPage(t, page, viewport, 'logout', 'Sign out?');

      await page.getByRole('button', { name: 'Yes, sign me out' }).click();
      await page.waitForURL((url) => url.pathname === '/session/end/success');
      t.true(await page.getByText('You are signed out of FairyID on this device.').isVisible());
      await checkPage(t, page, viewport, 'logged-out', 'Signed out');

      await page.getByRole('link', { name: 'Sign in again' }).click();
      await page.waitForURL(/\/interaction\/[^/]+$/);
      t.deepEqual(complaints, []);
    },
  );
}
