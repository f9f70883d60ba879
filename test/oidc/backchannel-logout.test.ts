import test from 'ava';
import type { ExecutionContext } from 'ava';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import { startBackchannelReceiver } from '../helpers/backchannel-receiver.ts';
import { readForm } from '../helpers/html-form.ts';
import { csrfToken, PageClient } from '../helpers/page-client.ts';
import { discover, pkcePair, registerClient, RP_REDIRECT, silentAuthorization } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';

const SIGNED_OUT = 'http://127.0.0.1:9/signed-out';
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const EMAIL = 'notes-user@example.com';

/** Our tests' relying parties listen on loopback, which oidc-provider refuses unless told otherwise. */
const PRIVATE_NETWORKS = { BACKCHANNEL_PRIVATE_NETWORKS: 'true' };

async function registerNotesApp(server: TestServer, backchannelLogoutUri: string, sessionRequired = true) {
  const { clientId, clientSecret } = await registerClient(server.app, {
    name: 'Notes',
    postLogoutRedirectUris: [SIGNED_OUT],
    backchannelLogoutUri,
    backchannelLogoutSessionRequired: sessionRequired,
  });
  return { clientId, config: await discover(server.url, clientId, clientSecret) };
}

/** The app's code flow in `browser` (a new one unless given); returns its tokens. */
async function signInToApp(server: TestServer, config: oidc.Configuration, browser = new PageClient(server.url)) {
  const { verifier, challenge } = await pkcePair();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid email',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    nonce,
  });
  const { url: callback } = await signInThroughPages(server.url, url.href, EMAIL, { client: browser });
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
  });
  return { browser, tokens, claims: tokens.claims()! };
}

/** The app sends the person to FairyID's logout, and they confirm it. Returns where they end up. */
async function rpInitiatedLogout(config: oidc.Configuration, browser: PageClient, idToken: string) {
  const endSession = oidc.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: SIGNED_OUT });
  const form = readForm(await (await browser.request(endSession.href)).text(), 'op.logoutForm');
  return browser.follow(form.action, { form: { ...form.fields, logout: 'yes' } });
}

/** Verifies a logout token as a relying party must (Back-Channel Logout 1.0, 2.6) against our JWKS. */
async function verifyLogoutToken(
  t: ExecutionContext,
  server: TestServer,
  token: string | null | undefined,
  clientId: string,
): Promise<JWTPayload> {
  if (!token) throw new Error('no logout_token was delivered');
  const jwks = createRemoteJWKSet(new URL('/jwks', server.url));
  const { payload } = await jwtVerify(token, jwks, { issuer: server.url, audience: clientId, typ: 'logout+jwt' });
  t.is(typeof payload.iat, 'number');
  t.truthy(payload.jti);
  t.deepEqual(payload.events, { [BACKCHANNEL_EVENT]: {} });
  t.false('nonce' in payload, 'a logout token never carries a nonce (2.4)');
  return payload;
}

/** A second browser of the same person, on the devices page, signs out every other device. */
async function signOutOtherDevices(server: TestServer) {
  const { url, html, client } = await signInThroughPages(server.url, `${server.url}/account/sessions`, EMAIL);
  if (url.pathname !== '/account/sessions') throw new Error(`signing in ended at ${url.href}`);
  return client.follow('/account/sessions/sign-out-others', { form: { _csrf: csrfToken(html) } });
}

test('an app is sent a signed logout token when the person signs out through it', async (t) => {
  const receiver = await startBackchannelReceiver(t);
  const server = await startTestServer(t, { env: PRIVATE_NETWORKS });
  const { clientId, config } = await registerNotesApp(server, receiver.uri);
  const metadata = config.serverMetadata();
  t.true(metadata.backchannel_logout_supported, 'discovery tells apps they can register for it');
  t.true(metadata.backchannel_logout_session_supported);
  const { browser, tokens, claims } = await signInToApp(server, config);
  t.truthy(claims.sid, 'the ID token carries the session id the logout token will name');

  const { url } = await rpInitiatedLogout(config, browser, tokens.id_token!);
  t.is(`${url.origin}${url.pathname}`, SIGNED_OUT);

  t.is(receiver.deliveries.length, 1);
  t.is(receiver.deliveries[0]!.contentType, 'application/x-www-form-urlencoded');
  const payload = await verifyLogoutToken(t, server, receiver.deliveries[0]!.logoutToken, clientId);
  t.is(payload.sub, claims.sub);
  t.is(payload.sid, claims.sid);

  const signOut = (await server.app.services.audit.recentFor(claims.sub)).find((event) => event.event === 'sign_out');
  t.is(signOut?.client_id, clientId, 'the sign-out is audited with the app that asked for it');
});

test('a logout token carries the session id only for apps that registered backchannel_logout_session_required', async (t) => {
  const receiver = await startBackchannelReceiver(t);
  const server = await startTestServer(t, { env: PRIVATE_NETWORKS });
  const withSid = await registerNotesApp(server, receiver.uri, true);
  const withoutSid = await registerNotesApp(server, receiver.uri, false);
  const { browser, tokens } = await signInToApp(server, withSid.config);
  const other = await signInToApp(server, withoutSid.config, browser);
  t.is(other.claims.sid, undefined, 'nor does that app get sid in its ID tokens');

  await rpInitiatedLogout(withSid.config, browser, tokens.id_token!);

  t.is(receiver.deliveries.length, 2, 'signing out everywhere tells every app of the session');
  const payloads = await Promise.all(
    receiver.deliveries.map(async (delivery) => {
      const audience = (
        JSON.parse(Buffer.from(delivery.logoutToken!.split('.')[1]!, 'base64url').toString()) as { aud: string }
      ).aud;
      return verifyLogoutToken(t, server, delivery.logoutToken, audience);
    }),
  );
  const byClient = new Map(payloads.map((payload) => [payload.aud, payload]));
  t.truthy(byClient.get(withSid.clientId)?.sid);
  t.false('sid' in byClient.get(withoutSid.clientId)!);
});

test('signing a device out from the account page sends its apps a logout token for that session and revokes their tokens', async (t) => {
  const receiver = await startBackchannelReceiver(t);
  const server = await startTestServer(t, { env: PRIVATE_NETWORKS });
  const { clientId, config } = await registerNotesApp(server, receiver.uri);
  const phone = await signInToApp(server, config);
  t.true((await oidc.tokenIntrospection(config, phone.tokens.access_token)).active);

  const { url } = await signOutOtherDevices(server);
  t.is(url.search, '?signed-out=others');

  t.is(receiver.deliveries.length, 1);
  const payload = await verifyLogoutToken(t, server, receiver.deliveries[0]!.logoutToken, clientId);
  t.is(payload.sid, phone.claims.sid, "the token names the phone's session");
  t.is(payload.sub, phone.claims.sub);
  t.false(
    (await oidc.tokenIntrospection(config, phone.tokens.access_token)).active,
    "the phone's access token is revoked",
  );
  t.is((await silentAuthorization(config, phone.browser)).get('error'), 'login_required');
});

test('an app whose back-channel endpoint answers 500 does not stop the person signing out through it', async (t) => {
  const receiver = await startBackchannelReceiver(t, { status: 500 });
  const server = await startTestServer(t, { env: PRIVATE_NETWORKS });
  const { config } = await registerNotesApp(server, receiver.uri);
  const { browser, tokens } = await signInToApp(server, config);

  const { response, url } = await rpInitiatedLogout(config, browser, tokens.id_token!);
  t.is(response.status, 303);
  t.is(`${url.origin}${url.pathname}`, SIGNED_OUT);
  t.is(receiver.deliveries.length, 1, 'the app was told, even though it failed');
  t.is((await silentAuthorization(config, browser)).get('error'), 'login_required');
});

test('an app whose back-channel endpoint answers 500 does not stop a device being signed out from the account page', async (t) => {
  const receiver = await startBackchannelReceiver(t, { status: 500 });
  const server = await startTestServer(t, { env: PRIVATE_NETWORKS });
  const { config } = await registerNotesApp(server, receiver.uri);
  const phone = await signInToApp(server, config);

  const { response, url } = await signOutOtherDevices(server);
  t.is(response.status, 200);
  t.is(url.search, '?signed-out=others');
  t.is(receiver.deliveries.length, 1);
  t.is((await silentAuthorization(config, phone.browser)).get('error'), 'login_required');
});

test('without BACKCHANNEL_PRIVATE_NETWORKS no logout token goes to a loopback address, and the logout still works', async (t) => {
  const receiver = await startBackchannelReceiver(t);
  const server = await startTestServer(t);
  const { config } = await registerNotesApp(server, receiver.uri);
  const { browser, tokens } = await signInToApp(server, config);

  const { url } = await rpInitiatedLogout(config, browser, tokens.id_token!);
  t.is(`${url.origin}${url.pathname}`, SIGNED_OUT);
  t.is(receiver.deliveries.length, 0, 'oidc-provider’s SSRF protection refused the private address');
  t.is((await silentAuthorization(config, browser)).get('error'), 'login_required');
});
