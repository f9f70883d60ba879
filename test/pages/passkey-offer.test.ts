import test from 'ava';
import * as oidc from 'openid-client';
import { accountByEmail } from '../helpers/account-pages.ts';
import { authorize, redeem, submit, type Authorization } from '../helpers/authorization.ts';
import { signInByEmailCode } from '../helpers/browser-sign-in.ts';
import { browserTest, SCREENSHOTS } from '../helpers/browser.ts';
import { latestCode } from '../helpers/outbox.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { addVirtualAuthenticator } from '../helpers/virtual-authenticator.ts';
import { checkPage, VIEWPORTS, watchComplaints } from '../helpers/viewport-pages.ts';

const ENV = { LIMIT_SENDS_PER_RECIPIENT: '100/3600', LIMIT_SENDS_PER_ACCOUNT: '100/3600' };

/** The email code, sent as the code page's script sends it from a browser that can make passkeys. */
async function codeFromCapableBrowser(server: TestServer, flow: Authorization, email: string, capable = 'yes') {
  const codePage = await submit(flow.client, flow, '/email', { email });
  return submit(flow.client, codePage, '/code', {
    code: await latestCode(server.url, email),
    passkey_capable: capable,
  });
}

test('"Not now" to the passkey offer goes on to the app, and the offer stays away for a month', async (t) => {
  const server = await startTestServer(t, { env: ENV });
  const { clientId, clientSecret } = await registerClient(server.app, { firstParty: true });
  const config = await discover(server.url, clientId, clientSecret);
  const email = 'not-now@example.com';

  const first = await authorize(server, config);
  const offer = await codeFromCapableBrowser(server, first, email);
  t.true(offer.url.pathname.endsWith('/passkey-offer'));
  t.regex(offer.html, /Sign in faster next time/);
  const skipped = await submit(first.client, offer, '/passkey-offer/skip');
  const claims = await redeem(config, skipped.url, first.check);
  t.is(claims.acr, '1fa', 'the sign-in went on by its code alone');
  t.truthy((await accountByEmail(server, email)).passkey_offer_skipped_at, 'the choice is kept with the account');

  // Within the month, another sign-in (even in another browser) goes straight on.
  server.clock.advance(29 * 24 * 3600);
  const again = await authorize(server, config);
  const straight = await codeFromCapableBrowser(server, again, email);
  t.is((await redeem(config, straight.url, again.check)).acr, '1fa');

  // A month and a day after "Not now", it is offered again.
  server.clock.advance(2 * 24 * 3600);
  const later = await authorize(server, config);
  t.true((await codeFromCapableBrowser(server, later, email)).url.pathname.endsWith('/passkey-offer'));

  // A browser that cannot make passkeys (or runs no script) is never offered one.
  const plain = await authorize(server, config);
  const noOffer = await codeFromCapableBrowser(server, plain, 'no-script@example.com', '');
  t.is((await redeem(config, noOffer.url, plain.check)).acr, '1fa');
});

test('the passkey offer cannot plant a passkey past an existing second factor', async (t) => {
  const server = await startTestServer(t, { env: ENV });
  const { clientId, clientSecret } = await registerClient(server.app, { firstParty: true });
  const config = await discover(server.url, clientId, clientSecret);
  const email = 'has-app@example.com';
  const account = await server.app.services.accounts.signInWithVerifiedEmail(email);
  await server.app.services.db
    .insertInto('totp_factors')
    .values({ account_id: account.account.id, sealed_secret: 'x', name: 'App' })
    .execute();
  const flow = await authorize(server, config);
  const next = await codeFromCapableBrowser(server, flow, email);
  t.true(/\/mfa$/.test(next.url.pathname), 'straight to the second step, no offer');
  // Calling the offer's ceremony directly is refused too: nothing is held for this sign-in.
  const csrf = /name="_csrf" value="([^"]+)"/.exec(next.html)![1]!;
  const uid = next.url.pathname.split('/')[2];
  const options = await flow.client.request(`/interaction/${uid}/passkey/offer/options`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
  });
  t.is(options.status, 400);
});

browserTest(
  'a browser that can make passkeys is offered one after a code sign-in; creating it goes on to the app',
  async (t) => {
    const server = await startTestServer(t, { env: ENV, hostname: 'localhost' });
    const redirectUri = `${server.url}/dev/callback`;
    const { clientId, clientSecret } = await registerClient(server.app, {
      name: 'Pixie Notes',
      redirectUris: [redirectUri],
      firstParty: true,
    });
    const config = await discover(server.url, clientId, clientSecret);
    for (const viewport of ['phone', 'desktop'] as const) {
      const page = await VIEWPORTS[viewport].open(t);
      const complaints = watchComplaints(page);
      const authenticator = await addVirtualAuthenticator(page);
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      await page.goto(url.href);
      await signInByEmailCode(server, page, `offered-${viewport}@example.com`);
      await page.waitForURL(/\/passkey-offer$/);
      await page.getByRole('button', { name: 'Create a passkey' }).waitFor();
      await checkPage(t, page, viewport, 'passkey-offer', 'Sign in faster next time');
      for (const colorScheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme });
        await page.screenshot({ path: `${SCREENSHOTS}passkey-offer-${viewport}-${colorScheme}.png`, fullPage: true });
      }
      await page.getByRole('button', { name: 'Create a passkey' }).click();
      await page.waitForURL(/\/mfa\/backup-codes$/);
      t.is(await page.locator('.backup-codes code').count(), 10, 'a first second factor comes with backup codes');
      await page.getByRole('link', { name: 'I saved them, continue' }).click();
      await page.waitForURL((target) => target.pathname === '/dev/callback');
      t.is((await authenticator.credentials()).length, 1);
      const account = await accountByEmail(server, `offered-${viewport}@example.com`);
      t.is((await server.app.services.accounts.factorSummary(account.id)).passkeys, 1);
      t.deepEqual(complaints, []);
    }
  },
);
