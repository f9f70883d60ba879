import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { latestCode } from './outbox.ts';
import { discover, pkcePair, registerClient } from './relying-party.ts';
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

/**
 * An app registered with the development callback page as its redirect URI (so the browser has
 * somewhere to arrive), and `start()`, which sends `page` to its authorization request and returns
 * the checks its code must pass (PKCE, state, nonce).
 */
export async function browserApp(server: TestServer, page: Page) {
  const redirectUri = `${server.url}/dev/callback`;
  const app = await registerClient(server.app, { redirectUris: [redirectUri] });
  const config = await discover(server.url, app.clientId, app.clientSecret);
  const start = async () => {
    const { verifier, challenge } = await pkcePair();
    const check = { pkceCodeVerifier: verifier, expectedState: oidc.randomState(), expectedNonce: oidc.randomNonce() };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: check.expectedState,
      nonce: check.expectedNonce,
    });
    await page.goto(url.href);
    return check;
  };
  /** Waits for the browser to arrive at the app and redeems the code it brings. */
  const redeem = async (check: Awaited<ReturnType<typeof start>>) => {
    await page.waitForURL((landed) => landed.href.startsWith(redirectUri));
    return oidc.authorizationCodeGrant(config, new URL(page.url()), check);
  };
  return { redirectUri, config, start, redeem };
}
