import test from 'ava';
import type { ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { readForm } from '../helpers/html-form.ts';
import type { PageClient } from '../helpers/page-client.ts';
import { discover, pkcePair, registerClient, RP_REDIRECT, silentAuthorization } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';

const SIGNED_OUT = 'http://127.0.0.1:9/signed-out';

/**
 * A person signed in to a first-party app (so a silent prompt=none request can succeed without a
 * consent step); the browser keeps FairyID's session cookie.
 */
async function signedIn(t: ExecutionContext) {
  const server = await startTestServer(t);
  const { clientId, clientSecret } = await registerClient(server.app, {
    firstParty: true,
    postLogoutRedirectUris: [SIGNED_OUT],
  });
  const config = await discover(server.url, clientId, clientSecret);
  const { verifier, challenge } = await pkcePair();
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid email',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const { url, client: browser } = await signInThroughPages(server.url, authorizationUrl.href, 'leaving@example.com');
  const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier });
  return { server, config, browser, tokens };
}

/** Opens the end-session URL the app builds, and returns our confirmation page. */
async function openLogoutPage(config: oidc.Configuration, browser: PageClient, idToken: string) {
  const url = oidc.buildEndSessionUrl(config, {
    id_token_hint: idToken,
    post_logout_redirect_uri: SIGNED_OUT,
    state: 'bye-123',
  });
  const response = await browser.request(url.href);
  return { response, html: await response.text() };
}

test('a person who confirms sign-out is sent to the registered post_logout_redirect_uri and their session is gone', async (t) => {
  const { config, browser, tokens } = await signedIn(t);
  // Control: the session is live, so a silent request succeeds before the sign-out.
  t.truthy((await silentAuthorization(config, browser)).get('code'));

  const { response, html } = await openLogoutPage(config, browser, tokens.id_token!);
  t.is(response.status, 200);
  t.regex(html, /Sign out\?/);
  t.regex(html, /Test RP/, 'the page names the app that asked');
  t.is(response.headers.get('x-frame-options'), 'DENY', 'another site cannot frame the sign-out button');
  const form = readForm(html, 'op.logoutForm');
  t.truthy(form.fields.xsrf);

  // The "Yes, sign me out" button submits the form with logout=yes.
  const { response: redirect, url } = await browser.follow(form.action, { form: { ...form.fields, logout: 'yes' } });
  t.is(redirect.status, 303);
  t.is(`${url.origin}${url.pathname}`, SIGNED_OUT);
  t.is(url.searchParams.get('state'), 'bye-123');

  const silent = await silentAuthorization(config, browser);
  t.is(silent.get('error'), 'login_required');
  t.is(silent.get('code'), null);
});

test('signing out revokes the tokens the app got during that session', async (t) => {
  // Tokens without offline_access live only as long as the session (oidc-provider's expiresWithSession).
  const { config, browser, tokens } = await signedIn(t);
  t.true((await oidc.tokenIntrospection(config, tokens.access_token)).active);

  const { html } = await openLogoutPage(config, browser, tokens.id_token!);
  const form = readForm(html, 'op.logoutForm');
  await browser.follow(form.action, { form: { ...form.fields, logout: 'yes' } });

  t.false((await oidc.tokenIntrospection(config, tokens.access_token)).active);
});

test('a person who chooses to stay signed in keeps their FairyID session', async (t) => {
  const { config, browser, tokens } = await signedIn(t);
  const { html } = await openLogoutPage(config, browser, tokens.id_token!);
  const form = readForm(html, 'op.logoutForm');

  // "No, stay signed in" submits the same form without logout=yes.
  const { url } = await browser.follow(form.action, { form: form.fields });
  t.is(`${url.origin}${url.pathname}`, SIGNED_OUT);

  const silent = await silentAuthorization(config, browser);
  t.is(silent.get('error'), null);
  t.truthy(silent.get('code'));
});

test('a post_logout_redirect_uri the app did not register is refused with an error page', async (t) => {
  const { config, browser, tokens } = await signedIn(t);
  const url = oidc.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token!,
    post_logout_redirect_uri: 'https://attacker.example/landing',
  });
  // A browser navigating there asks for HTML; oidc-provider answers JSON otherwise.
  const response = await browser.request(url.href, { headers: { accept: 'text/html' } });
  t.is(response.status, 400);
  t.is(response.headers.get('location'), null, 'no redirect to the unregistered address');
  t.regex(await response.text(), /This sign-in request cannot continue/);

  // Nothing happened to the session either.
  t.truthy((await silentAuthorization(config, browser)).get('code'));
});
