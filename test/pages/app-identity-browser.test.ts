import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { signInByEmailCode } from '../helpers/browser-sign-in.ts';
import { browserTest, SCREENSHOTS } from '../helpers/browser.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';
import { checkPage, VIEWPORTS, watchComplaints } from '../helpers/viewport-pages.ts';

const LOGO =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect width="48" height="48" rx="10" fill="#2f855a"/>' +
  '<path d="M14 34 L24 12 L34 34 Z" fill="#fff"/></svg>';

async function bothSchemes(page: Page, name: string) {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: `${SCREENSHOTS}${name}-${colorScheme}.png`, fullPage: true });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

// In development an app's links may be plain http (its logo on localhost), which is what lets a
// test serve the logo itself; the same page in production admits only https.
browserTest(
  "sign-in, consent and 'Continue as' show the app's logo, name, domain and links, in light and dark",
  async (t) => {
    const logoServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/svg+xml' });
      res.end(LOGO);
    });
    await new Promise<void>((resolve) => logoServer.listen(0, '127.0.0.1', resolve));
    t.teardown(() => logoServer.close());
    const logoOrigin = `http://127.0.0.1:${(logoServer.address() as AddressInfo).port}`;
    const server = await startTestServer(t, { env: { NODE_ENV: 'development', DEMO_CLIENT: 'false' } });
    const redirectUri = `${server.url}/dev/callback`;
    const { clientId, clientSecret } = await registerClient(server.app, {
      name: 'Pixie Notes',
      redirectUris: [redirectUri],
      appLinks: {
        logo_uri: `${logoOrigin}/logo.svg`,
        client_uri: 'https://pixie.example/',
        policy_uri: 'https://pixie.example/privacy',
        tos_uri: 'https://pixie.example/terms',
      },
    });
    const config = await discover(server.url, clientId, clientSecret);
    for (const viewport of ['phone', 'desktop'] as const) {
      const page = await VIEWPORTS[viewport].open(t);
      const complaints = watchComplaints(page);
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid email',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      await page.goto(url.href);
      await checkPage(t, page, viewport, 'sign-in-app-identity', 'Sign in');
      t.true(
        await page
          .locator('img.app-logo')
          .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0),
        'logo loads',
      );
      t.true(await page.getByRole('link', { name: 'privacy policy' }).isVisible());
      await bothSchemes(page, `sign-in-app-identity-${viewport}`);
      await signInByEmailCode(server, page, `identity-${viewport}@example.com`);
      await page.waitForURL(/\/interaction\/[^/]+$/);
      await checkPage(t, page, viewport, 'consent-app-identity', 'Allow access?');
      t.true(await page.getByRole('button', { name: 'Use another account' }).isVisible());
      await bothSchemes(page, `consent-app-identity-${viewport}`);
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((target) => target.pathname === '/dev/callback');

      // The same browser, asked to sign in again: "Continue as".
      await page.goto(`${url.href}&prompt=login`);
      await page.getByRole('button', { name: `Continue as identity-${viewport}@example.com` }).waitFor();
      await checkPage(t, page, viewport, 'sign-in-continue-as', 'Sign in');
      await bothSchemes(page, `sign-in-continue-as-${viewport}`);
      t.deepEqual(complaints, []);
    }
  },
);
