import * as oidc from 'openid-client';
import { browserTest } from '../helpers/browser.ts';
import { latestCode } from '../helpers/outbox.ts';
import { discover, pkcePair, registerClient } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';
import { otherThan } from '../helpers/sign-in-pages.ts';
import { checkPage, VIEWPORTS, watchComplaints, type Viewport } from '../helpers/viewport-pages.ts';

for (const viewport of Object.keys(VIEWPORTS) as Viewport[]) {
  browserTest(
    `the pages of a spent limit and of a lockout read clearly in a real browser (${viewport} screen)`,
    async (t) => {
      const server = await startTestServer(t, {
        env: {
          LIMIT_SENDS_PER_RECIPIENT: '1/600',
          LOCKOUT_AFTER_FAILURES: '2/600',
          LOCKOUT_SECONDS: '600',
          LIMIT_DEVICE_CODE_GUESSES_PER_IP: '1/600',
        },
      });
      const { clientId, clientSecret } = await registerClient(server.app, {
        redirectUris: [`${server.url}/dev/callback`],
      });
      const config = await discover(server.url, clientId, clientSecret);
      const authorizationUrl = async () =>
        oidc.buildAuthorizationUrl(config, {
          redirect_uri: `${server.url}/dev/callback`,
          scope: 'openid',
          code_challenge: (await pkcePair()).challenge,
          code_challenge_method: 'S256',
        }).href;
      const page = await VIEWPORTS[viewport].open(t);
      const complaints = watchComplaints(page);
      const askFor = async (identifier: string) => {
        await page.goto(await authorizationUrl());
        await page.getByLabel('Email address or phone number').fill(identifier);
        await page.getByRole('button', { name: 'Send me a code' }).click();
      };

      // Two wrong codes lock the number; the page says for how long.
      await askFor('+1 415 555 2671');
      const code = await latestCode(server.url, '+14155552671');
      for (let attempt = 0; attempt < 2; attempt += 1) {
        await page.getByLabel('Sign-in code').fill(otherThan(code));
        await page.getByRole('button', { name: 'Sign in' }).click();
      }
      t.true(
        await page
          .getByRole('alert')
          .filter({ hasText: /Signing in with this phone number is locked for \d+ (minutes|seconds?)\./ })
          .isVisible(),
      );
      await checkPage(t, page, viewport, 'sign-in-locked', 'Sign in');

      // A second code to one address within the window is refused.
      await askFor('ada@example.com');
      await page.getByRole('heading', { name: 'Check your email' }).waitFor();
      await askFor('ada@example.com');
      t.true(
        await page
          .getByRole('alert')
          .filter({ hasText: /Too many codes were asked for\. Try again in \d+ minutes\./ })
          .isVisible(),
      );
      await checkPage(t, page, viewport, 'sign-in-too-many-codes', 'Sign in');

      // The device page after a wrong guess spends the budget of one.
      for (let guess = 0; guess < 2; guess += 1) {
        await page.goto(`${server.url}/device`);
        await page.getByLabel('Device code').fill('BCDF-GHJK');
        // The answer must have loaded before the next goto, or that goto aborts the submission.
        await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Continue' }).click()]);
      }
      t.true(
        await page
          .getByRole('alert')
          .filter({ hasText: 'Too many wrong device codes were entered from your network.' })
          .isVisible(),
      );
      await checkPage(t, page, viewport, 'device-too-many-guesses', 'Too many codes tried');
      t.deepEqual(complaints, []);
    },
  );
}
