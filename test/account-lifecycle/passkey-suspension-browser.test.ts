import type { ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { accountByEmail } from '../helpers/account-pages.ts';
import { apiToken, callApi } from '../helpers/api.ts';
import { signInByEmailCode } from '../helpers/browser-sign-in.ts';
import { browserTest } from '../helpers/browser.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { addVirtualAuthenticator } from '../helpers/virtual-authenticator.ts';
import { VIEWPORTS, watchComplaints } from '../helpers/viewport-pages.ts';

const QUEEN = 'queen@example.com';
const EMAIL = 'keyholder@example.com';

/** A browser of its own with a virtual authenticator, where passkeys are offered by the button only. */
async function newBrowser(t: ExecutionContext) {
  const page = await VIEWPORTS.desktop.open(t);
  await page.addInitScript('PublicKeyCredential.isConditionalMediationAvailable = async () => false;');
  return { page, complaints: watchComplaints(page), authenticator: await addVirtualAuthenticator(page) };
}

async function startAuthorization(server: TestServer, page: Page) {
  const redirectUri = `${server.url}/dev/callback`;
  const { clientId, clientSecret } = await registerClient(server.app, {
    name: 'Pixie Notes',
    redirectUris: [redirectUri],
    firstParty: true,
  });
  const config = await discover(server.url, clientId, clientSecret);
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  await page.goto(url.href);
}

browserTest('a suspended account’s passkey no longer signs in, and the page says why', async (t) => {
  const server = await startTestServer(t, { hostname: 'localhost', env: { PLATFORM_OWNER_EMAIL: QUEEN } });
  const first = await newBrowser(t);
  await first.page.goto(`${server.url}/account/passkeys`);
  await signInByEmailCode(server, first.page, EMAIL);
  await first.page.waitForURL((url) => url.pathname === '/account/passkeys');
  await first.page.getByRole('button', { name: 'Add a passkey' }).click();
  await first.page.waitForURL(
    (url) => url.pathname === '/account/security/backup-codes' || url.search === '?saved=added',
  );
  const [credential] = await first.authenticator.credentials();
  t.truthy(credential);

  const queen = await apiToken(server, QUEEN, ['platform:manage']);
  const { id } = await accountByEmail(server, EMAIL);
  const suspended = await callApi(server, queen, 'POST', `/api/platform/accounts/${id}/suspend`, { reason: 'Spam' });
  t.is(suspended.status, 200);

  const second = await newBrowser(t);
  await second.authenticator.addCredential(credential!);
  await startAuthorization(server, second.page);
  await second.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await second.page.getByText(/This account is suspended by the FairyID platform owner/).waitFor();
  t.regex(new URL(second.page.url()).pathname, /^\/interaction\//, 'the person stays on the sign-in page');
  const refusals = (await server.app.services.audit.recentFor(id, 50)).filter(
    (event) => event.event === 'sign_in_refused',
  );
  t.is(refusals.length, 1);
  t.like(refusals[0]?.detail, { status: 'suspended' });
});
