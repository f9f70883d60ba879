import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { accountByEmail } from '../helpers/account-pages.ts';
import { browserTest } from '../helpers/browser.ts';
import { signInByEmailCode } from '../helpers/browser-sign-in.ts';
import { outboxEvents, refuseEvent } from '../helpers/events.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { addVirtualAuthenticator } from '../helpers/virtual-authenticator.ts';
import { VIEWPORTS } from '../helpers/viewport-pages.ts';

// A passkey is made by a browser's WebAuthn ceremony, so these run one (Chrome's virtual authenticator).

const passkeyAdded = async (server: TestServer, accountId: string) =>
  (await outboxEvents(server.app.services.db, 'account.factor_added')).filter(
    (event) => event.subject.id === accountId && event.data.factor === 'passkey',
  );

/** Clicks "Add a passkey" and returns the answer to the page's POST. */
async function addPasskey(page: Page) {
  const answer = page.waitForResponse(
    (response) => new URL(response.url()).pathname === '/account/passkeys' && response.request().method() === 'POST',
  );
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  return answer;
}

browserTest('a passkey added on the account page commits with account.factor_added, or neither is kept', async (t) => {
  const server = await startTestServer(t, { hostname: 'localhost' });
  const { db } = server.app.services;
  const email = 'moth@example.com';
  const page = await VIEWPORTS.desktop.open(t);
  await addVirtualAuthenticator(page);
  await page.goto(`${server.url}/account/passkeys`);
  await signInByEmailCode(server, page, email);
  await page.waitForURL((url) => url.pathname === '/account/passkeys');
  const account = await accountByEmail(server, email);
  const passkeys = () => db.selectFrom('passkeys').select('id').where('account_id', '=', account.id).execute();

  const allow = await refuseEvent(t, db, 'account.factor_added', `account:${account.id}`);
  t.is((await addPasskey(page)).status(), 500);
  t.deepEqual(await passkeys(), []);
  t.deepEqual(await passkeyAdded(server, account.id), []);

  await allow();
  await page.goto(`${server.url}/account/passkeys`);
  const added = await addPasskey(page);
  t.is(added.status(), 200);
  t.is((await passkeys()).length, 1);
  const events = await passkeyAdded(server, account.id);
  t.is(events.length, 1);
  t.like(events[0], { actor: { type: 'account', id: account.id, client_id: null } });
  t.is(events[0]?.request_id, await added.headerValue('x-request-id'));
});

browserTest('a passkey made during a sign-in is added by the person through the app they signed in to', async (t) => {
  const server = await startTestServer(t, { hostname: 'localhost' });
  const redirectUri = `${server.url}/dev/callback`;
  const { clientId, clientSecret } = await registerClient(server.app, {
    name: 'Pixie Notes',
    redirectUris: [redirectUri],
    firstParty: true,
  });
  const config = await discover(server.url, clientId, clientSecret);
  const page = await VIEWPORTS.desktop.open(t);
  await addVirtualAuthenticator(page);
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: oidc.randomState(),
    acr_values: 'phr',
  });
  await page.goto(url.href);
  await signInByEmailCode(server, page, 'glow-worm@example.com');
  await page.waitForURL(/\/interaction\/[^/]+\/mfa$/);
  await page.getByRole('button', { name: 'Create a passkey' }).click();
  await page.waitForURL(/\/interaction\/[^/]+\/mfa\/backup-codes$/);
  const account = await accountByEmail(server, 'glow-worm@example.com');
  const events = await passkeyAdded(server, account.id);
  t.is(events.length, 1);
  t.like(events[0], { actor: { type: 'account', id: account.id, client_id: clientId } });
  t.truthy(events[0]?.request_id);
});
