import type { ExecutionContext } from 'ava';
import type { Page } from 'playwright-core';
import * as oidc from 'openid-client';
import { browserTest } from '../helpers/browser.ts';
import { discover, pkcePair, registerClient } from '../helpers/relying-party.ts';
import { testClock } from '../helpers/clock.ts';
import { startTestServer } from '../helpers/server.ts';
import { checkPage, VIEWPORTS, type Viewport, watchComplaints } from '../helpers/viewport-pages.ts';

/** The page in light and in dark, each kept as a screenshot (`<name>-<viewport>.png`, `<name>-dark-<viewport>.png`). */
async function lightAndDark(t: ExecutionContext, page: Page, viewport: Viewport, name: string, title: string) {
  await page.emulateMedia({ colorScheme: 'light' });
  await checkPage(t, page, viewport, name, title);
  await page.emulateMedia({ colorScheme: 'dark' });
  await checkPage(t, page, viewport, `${name}-dark`, title);
  await page.emulateMedia({ colorScheme: 'light' });
}

for (const viewport of ['phone', 'desktop'] as const) {
  browserTest(
    `unknown paths, the home page and a cancelled account sign-in are pages a person can go on from (${viewport})`,
    async (t) => {
      const server = await startTestServer(t);
      const page = await VIEWPORTS[viewport].open(t);
      const complaints = watchComplaints(page);

      for (const path of ['/does-not-exist', '/account/nope']) {
        const response = await page.goto(`${server.url}${path}`);
        t.is(response?.status(), 404, path);
        t.is(await page.getAttribute('html', 'lang'), 'en');
        t.is(await page.title(), 'Page not found · FairyID');
      }
      await lightAndDark(t, page, viewport, 'not-found', 'Page not found');
      await page.getByRole('link', { name: 'Go to the home page' }).click();
      await page.waitForURL((url) => url.pathname === '/');
      await lightAndDark(t, page, viewport, 'home', 'Welcome to FairyID');

      // "Sign in" goes through the account page's sign-in; cancelling it ends here, not on a new sign-in page.
      await page.getByRole('link', { name: 'Sign in' }).click();
      await page.waitForURL(/\/interaction\/[^/]+$/);
      await page.getByRole('button', { name: 'Cancel and return to FairyID' }).click();
      await page.waitForURL((url) => url.pathname === '/' && url.searchParams.get('sign-in') === 'cancelled');
      t.true(await page.getByRole('status').filter({ hasText: 'You cancelled signing in.' }).isVisible());
      await lightAndDark(t, page, viewport, 'home-sign-in-cancelled', 'Welcome to FairyID');

      await page.goto(`${server.url}/docs/api`);
      t.true(await page.getByRole('navigation', { name: 'API sections' }).isVisible());
      await page.getByRole('navigation', { name: 'API sections' }).getByRole('link', { name: 'Invitations' }).click();
      await page.waitForURL((url) => url.hash === '#invitations');
      // Scopes are whole on every line: each one's box is a single line of text.
      const split = await page.$$eval('.api-scope', (codes) =>
        codes.filter((code) => code.getClientRects().length > 1).map((code) => code.textContent),
      );
      t.deepEqual(split, [], 'no scope breaks across lines');
      await lightAndDark(t, page, viewport, 'api-reference', 'FairyID API');

      t.deepEqual(complaints, []);
    },
  );

  browserTest(
    `the resend button counts down from the server's wait and the sign-in pages lead on when they end (${viewport})`,
    async (t) => {
      // Frozen: the seconds the server renders are its OTP_RESEND_SECONDS less only what the test moves.
      const server = await startTestServer(t, { clock: testClock({ frozen: true }) });
      const { clientId, clientSecret } = await registerClient(server.app, {
        name: 'Pixie Notes',
        redirectUris: ['https://notes.example/callback'],
      });
      const config = await discover(server.url, clientId, clientSecret);
      const { challenge } = await pkcePair();
      const authorizationUrl = oidc.buildAuthorizationUrl(config, {
        redirect_uri: 'https://notes.example/callback',
        scope: 'openid email',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: oidc.randomState(),
      });

      const page = await VIEWPORTS[viewport].open(t);
      const complaints = watchComplaints(page);
      // The browser's clock stands still unless the test moves it: the countdown runs without real waiting.
      // Installed clocks run until paused, so the pause is an hour ahead: a busy machine may take more
      // than a moment between the two calls, and a clock cannot be paused in its past.
      const start = Date.now();
      await page.clock.install({ time: start });
      await page.clock.pauseAt(start + 3_600_000);
      await page.goto(authorizationUrl.href);
      await page.getByLabel('Email address').fill(`ada-${viewport}@example.com`);
      await page.getByRole('button', { name: 'Send me a code' }).click();
      await page.waitForURL(/\/interaction\/[^/]+\/code$/);
      const codeUrl = page.url();
      const resend = page.locator('form[action$="/resend"] button');
      /** The wait the server rendered into the page (its clock moves on, slowly, while the machine is busy). */
      const serverWait = async () => Number(await resend.getAttribute('data-resend-in'));
      const label = (seconds: number) => `Send a new code (0:${String(seconds).padStart(2, '0')})`;
      const first = await serverWait();
      t.true(first > 12 && first <= 30, `the wait is the server's OTP_RESEND_SECONDS, less what has passed (${first})`);
      t.is(await resend.textContent(), label(first));
      t.true(await resend.isDisabled());
      t.true(await page.getByText('Check your spam or junk folder').isVisible());
      await lightAndDark(t, page, viewport, 'code-resend-countdown', 'Check your email');

      await page.clock.runFor(12_000);
      t.is(await resend.textContent(), label(first - 12));
      t.true(await resend.isDisabled());

      // The server's clock decides the seconds: 25 of them later, a reload shows what is left of the 30.
      server.clock.advance(25);
      await page.reload();
      const left = await serverWait();
      t.true(left >= 1 && left <= 5, `${left} seconds left`);
      t.is(await resend.textContent(), label(left));
      await page.clock.runFor(left * 1000);
      server.clock.advance(left);
      t.is(await resend.textContent(), 'Send a new code');
      t.true(await resend.isEnabled());
      await resend.click();
      await page.getByRole('status').filter({ hasText: 'We sent a new code.' }).waitFor();
      t.true((await serverWait()) > 0, 'a new wait starts with the new code');
      t.true(await resend.isDisabled());

      // The same sign-in link in another browser: it says so, and leads back to the app.
      const other = await VIEWPORTS[viewport].open(t);
      const otherComplaints = watchComplaints(other);
      const response = await other.goto(codeUrl);
      t.is(response?.status(), 400);
      t.true(await other.getByText('started in another browser or app').isVisible());
      t.is(
        await other.getByRole('link', { name: 'Return to Pixie Notes' }).getAttribute('href'),
        'https://notes.example',
      );
      await lightAndDark(t, other, viewport, 'interaction-other-browser', 'Finish signing in where you started');

      await other.goto(`${server.url}/interaction/no-such-sign-in`);
      await lightAndDark(t, other, viewport, 'interaction-ended', 'This sign-in has ended');
      await other.getByRole('link', { name: 'Start again' }).click();
      await other.waitForURL((url) => url.pathname === '/');

      t.deepEqual(complaints, []);
      t.deepEqual(otherComplaints, []);
    },
  );

  browserTest(`denying a device ends on a calm "Not connected" page (${viewport})`, async (t) => {
    const server = await startTestServer(t);
    const { clientId } = await registerClient(server.app, {
      name: 'Fairy TV',
      authMethod: 'none',
      redirectUris: [],
      postLogoutRedirectUris: [],
      grantTypes: ['urn:ietf:params:oauth:grant-type:device_code'],
    });
    const device = await oidc.initiateDeviceAuthorization(await discover(server.url, clientId), { scope: 'openid' });
    const page = await VIEWPORTS[viewport].open(t);
    const complaints = watchComplaints(page);
    await page.goto(`${server.url}/device`);
    await page.getByLabel('Device code').fill(device.user_code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'No, deny' }).click();
    await page.getByRole('heading', { name: 'Not connected' }).waitFor();
    t.true(await page.getByText('Fairy TV was not connected.').isVisible());
    t.is(await page.getByRole('alert').count(), 0, 'no error above a code: the person chose this');
    await lightAndDark(t, page, viewport, 'device-not-connected', 'Not connected');
    t.deepEqual(complaints, []);
  });
}
