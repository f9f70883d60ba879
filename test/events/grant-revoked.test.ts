import { randomBytes } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { accountByEmail, signedInAt, submitForm } from '../helpers/account-pages.ts';
import { apiToken, callApi } from '../helpers/api.ts';
import { confirmAndSignIn, openCompleteVerificationUri } from '../helpers/device-approval.ts';
import { outboxEvents, type PublishedEvent } from '../helpers/events.ts';
import { readForm } from '../helpers/html-form.ts';
import { PageClient } from '../helpers/page-client.ts';
import { discover, pkcePair, registerClient, RP_REDIRECT } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { codeFlowWithOfflineAccess, signInThroughPages } from '../helpers/sign-in.ts';
import { createGrantRepository } from '../../src/oidc/grant.repository.ts';

// Every way a grant is revoked publishes grant.revoked exactly once for it, with who did it, why,
// and the id of the request that did it. Each test starts a server of its own.

const PERSON = 'ada@example.com';
const QUEEN = 'queen@example.com';

const requestId = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;

/** openid-client's requests to the server, sent with our own X-Request-Id. */
function sendingRequestId(config: oidc.Configuration, id: string) {
  config[oidc.customFetch] = (url, options) => {
    const headers = new Headers(options.headers);
    headers.set('x-request-id', id);
    return fetch(url, { ...options, headers });
  };
}

const revokedEvents = async (server: TestServer, accountId: string): Promise<PublishedEvent[]> =>
  (await outboxEvents(server.app.services.db, 'grant.revoked')).filter((event) => event.subject.id === accountId);

const grantIdsOf = async (server: TestServer, accountId: string, clientId?: string) =>
  (await createGrantRepository(server.app.services.db).findByAccount(accountId))
    .filter((grant) => clientId === undefined || grant.clientId === clientId)
    .map((grant) => grant.id);

const auditOf = (server: TestServer, accountId: string, event: string) =>
  server.app.services.db
    .selectFrom('audit_events')
    .select(['outcome', 'detail', 'client_id', 'request_id'])
    .where('account_id', '=', accountId)
    .where('event', '=', event)
    .execute();

async function refusedAsInvalidGrant(t: ExecutionContext, attempt: Promise<unknown>, message: string) {
  const error = await t.throwsAsync(attempt, undefined, message);
  t.is((error as oidc.ResponseBodyError).error, 'invalid_grant', message);
}

type Grant = { accountId: string; clientId: string; grantId: string };

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** A TV app: a public client that signs in with the device flow (RFC 8628). */
const registerTv = async (server: TestServer) =>
  (
    await registerClient(server.app, {
      name: 'Fairy TV',
      authMethod: 'none',
      redirectUris: [],
      postLogoutRedirectUris: [],
      grantTypes: [DEVICE_GRANT, 'refresh_token'],
    })
  ).clientId;

/** The device's token request, made by hand where openid-client would wait out the polling interval. */
const redeemDeviceCode = (server: TestServer, clientId: string, deviceCode: string, id: string) =>
  fetch(`${server.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': id },
    body: new URLSearchParams({ grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: clientId }),
  });

/** The one grant.revoked there must be for the grant: by `actor`, for `reason`, in the request `id`. */
async function publishedOnce(
  t: ExecutionContext,
  server: TestServer,
  grant: Grant,
  actor: unknown,
  reason: string,
  id: string,
) {
  const events = await revokedEvents(server, grant.accountId);
  t.is(events.length, 1, 'one grant.revoked for the grant');
  const [event] = events;
  t.deepEqual(event?.actor, actor);
  t.deepEqual(event?.subject, { type: 'account', id: grant.accountId });
  t.deepEqual(event?.data, { client_id: grant.clientId, grant_ids: [grant.grantId], reason });
  t.is(event?.request_id, id);
}

/** The grant `email` gave the client, once they are signed in to it. */
async function grantOf(server: TestServer, email: string, clientId: string): Promise<Grant> {
  const { id: accountId } = await accountByEmail(server, email);
  const [grantId] = await grantIdsOf(server, accountId, clientId);
  return { accountId, clientId, grantId: grantId! };
}

/** A sign-in to the app without offline access, in a new browser: its grant lives as long as the session. */
async function signInWithoutOfflineAccess(server: TestServer, config: oidc.Configuration) {
  const { verifier, challenge } = await pkcePair();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid email',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const { url: callback, client: browser } = await signInThroughPages(server.url, url.href, PERSON);
  return { callback, verifier, browser };
}

/** A person signed in to a web app with offline access: the app holds a refresh token never used. */
async function signedInToApp(t: ExecutionContext, env: Record<string, string> = {}) {
  const server = await startTestServer(t, { env });
  const client = await registerClient(server.app);
  const config = await discover(server.url, client.clientId, client.clientSecret);
  const tokens = await codeFlowWithOfflineAccess(server.url, config, PERSON);
  return { server, client, config, tokens, grant: await grantOf(server, PERSON, client.clientId) };
}

test('a rotated refresh token reused after the grace window publishes one grant.revoked by FairyID', async (t) => {
  const { server, config, tokens, grant } = await signedInToApp(t);
  const first = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  server.clock.advance(11);

  const id = requestId('reuse');
  sendingRequestId(config, id);
  await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(config, tokens.refresh_token!), 'the window is over');
  await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(config, first.refresh_token!), 'the grant is gone');

  await publishedOnce(t, server, grant, { type: 'system' }, 'refresh_token_reused', id);
  t.deepEqual(
    (await auditOf(server, grant.accountId, 'refresh_token_reused')).map((row) => row.detail),
    [{ reason: 'window_over' }],
    'the grace window audited the reuse; the revocation adds no second row',
  );
});

test('with no grace window, a reused refresh token is audited and published once', async (t) => {
  const { server, config, tokens, grant } = await signedInToApp(t, { REFRESH_TOKEN_REUSE_GRACE_SECONDS: '0' });
  await oidc.refreshTokenGrant(config, tokens.refresh_token!);

  const id = requestId('reuse');
  sendingRequestId(config, id);
  await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(config, tokens.refresh_token!), 'no grace at all');

  await publishedOnce(t, server, grant, { type: 'system' }, 'refresh_token_reused', id);
  t.deepEqual(await auditOf(server, grant.accountId, 'refresh_token_reused'), [
    { outcome: 'failure', detail: null, client_id: grant.clientId, request_id: id },
  ]);
});

test('a rotated refresh token presented by another app within the window publishes one grant.revoked', async (t) => {
  const { server, config, tokens, grant } = await signedInToApp(t);
  await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  const other = await registerClient(server.app, { name: 'Other app' });
  const otherConfig = await discover(server.url, other.clientId, other.clientSecret);

  const id = requestId('stolen');
  sendingRequestId(otherConfig, id);
  await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(otherConfig, tokens.refresh_token!), 'not its token');
  await refusedAsInvalidGrant(t, oidc.refreshTokenGrant(config, tokens.refresh_token!), 'the grant is gone');

  await publishedOnce(t, server, grant, { type: 'system' }, 'refresh_token_reused', id);
});

test('an authorization code redeemed twice publishes one grant.revoked and is audited', async (t) => {
  const server = await startTestServer(t);
  const client = await registerClient(server.app);
  const config = await discover(server.url, client.clientId, client.clientSecret);
  const { callback, verifier } = await signInWithoutOfflineAccess(server, config);
  await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
  const grant = await grantOf(server, PERSON, client.clientId);

  const id = requestId('code-again');
  sendingRequestId(config, id);
  const again = oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
  await refusedAsInvalidGrant(t, again, 'a code is used once');

  await publishedOnce(t, server, grant, { type: 'system' }, 'authorization_code_reused', id);
  t.deepEqual(await auditOf(server, grant.accountId, 'code_reused'), [
    { outcome: 'failure', detail: { grant_type: 'authorization_code' }, client_id: client.clientId, request_id: id },
  ]);
});

test('a device code redeemed twice publishes one grant.revoked and is audited', async (t) => {
  const server = await startTestServer(t);
  const clientId = await registerTv(server);
  const device = await oidc.initiateDeviceAuthorization(await discover(server.url, clientId), { scope: 'openid' });
  const browser = new PageClient(server.url);
  await confirmAndSignIn(server, browser, await openCompleteVerificationUri(browser, device), PERSON);
  const redeem = (id: string) => redeemDeviceCode(server, clientId, device.device_code, id);
  t.is((await redeem(requestId('device'))).status, 200);
  const grant = await grantOf(server, PERSON, clientId);

  const id = requestId('device-again');
  t.like(await (await redeem(id)).json(), { error: 'invalid_grant' });

  await publishedOnce(t, server, grant, { type: 'system' }, 'device_code_reused', id);
  t.deepEqual(await auditOf(server, grant.accountId, 'code_reused'), [
    { outcome: 'failure', detail: { grant_type: DEVICE_GRANT }, client_id: clientId, request_id: id },
  ]);
});

test('an app revoking its refresh token (RFC 7009) publishes one grant.revoked by the app', async (t) => {
  const { server, config, tokens, grant } = await signedInToApp(t);

  const id = requestId('revoke');
  sendingRequestId(config, id);
  await oidc.tokenRevocation(config, tokens.refresh_token!);
  await oidc.tokenRevocation(config, tokens.refresh_token!);
  t.false((await oidc.tokenIntrospection(config, tokens.access_token)).active, 'the grant went with it');

  await publishedOnce(t, server, grant, { type: 'client', id: grant.clientId }, 'token_revoked', id);
});

test('signing out through the app (RP-initiated logout) publishes one grant.revoked by the person', async (t) => {
  const server = await startTestServer(t);
  const signedOut = 'http://127.0.0.1:9/signed-out';
  const client = await registerClient(server.app, { firstParty: true, postLogoutRedirectUris: [signedOut] });
  const config = await discover(server.url, client.clientId, client.clientSecret);
  const { callback, verifier, browser } = await signInWithoutOfflineAccess(server, config);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
  const grant = await grantOf(server, PERSON, client.clientId);

  const logout = oidc.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token!,
    post_logout_redirect_uri: signedOut,
  });
  const form = readForm(await (await browser.request(logout.href)).text(), 'op.logoutForm');
  const id = requestId('logout');
  const { url: landed } = await browser.follow(form.action, {
    form: { ...form.fields, logout: 'yes' },
    headers: { 'x-request-id': id },
  });
  t.is(`${landed.origin}${landed.pathname}`, signedOut);

  const person = { type: 'account', id: grant.accountId, client_id: client.clientId };
  await publishedOnce(t, server, grant, person, 'signed_out', id);
  t.deepEqual(await auditOf(server, grant.accountId, 'grant_revoked'), [], 'a sign-out is not an app disconnected');
});

test('signing out the other sessions on the account page publishes one grant.revoked per grant they end', async (t) => {
  const server = await startTestServer(t);
  const client = await registerClient(server.app, { firstParty: true });
  // The other device: signed in to the app, with a grant that lives as long as its session.
  await signInWithoutOfflineAccess(server, await discover(server.url, client.clientId, client.clientSecret));
  const grant = await grantOf(server, PERSON, client.clientId);
  const { client: browser, html } = await signedInAt(server, '/account/sessions', PERSON);

  const id = requestId('others');
  const { response } = await submitForm(browser, html, '/account/sessions/sign-out-others', {}, { 'x-request-id': id });
  t.is(response.status, 303);

  await publishedOnce(t, server, grant, { type: 'account', id: grant.accountId, client_id: null }, 'signed_out', id);
});

test('"Not you?" on the device confirmation page publishes one grant.revoked per grant the sign-out ends', async (t) => {
  const server = await startTestServer(t);
  const clientId = await registerTv(server);
  const tvConfig = await discover(server.url, clientId);
  // The first TV, approved on this browser without offline access: its grant lives as long as the session.
  const browser = new PageClient(server.url);
  const firstTv = await oidc.initiateDeviceAuthorization(tvConfig, { scope: 'openid' });
  await confirmAndSignIn(server, browser, await openCompleteVerificationUri(browser, firstTv), PERSON);
  const redeemed = await redeemDeviceCode(server, clientId, firstTv.device_code, requestId('first-tv'));
  t.is(redeemed.status, 200);
  const { access_token: tvAccessToken } = (await redeemed.json()) as { access_token: string };
  const grant = await grantOf(server, PERSON, clientId);
  // A web app given offline access in the same browser: the sign-out leaves its grant alone.
  const app = await registerClient(server.app, { name: 'Offline app' });
  const appConfig = await discover(server.url, app.clientId, app.clientSecret);
  const { verifier, challenge } = await pkcePair();
  const authorization = oidc.buildAuthorizationUrl(appConfig, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid offline_access',
    prompt: 'consent',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const { url: callback } = await signInThroughPages(server.url, authorization.href, PERSON, { client: browser });
  const appTokens = await oidc.authorizationCodeGrant(appConfig, callback, { pkceCodeVerifier: verifier });
  t.truthy(appTokens.refresh_token);
  const userinfo = (token: string) =>
    fetch(tvConfig.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${token}` } });
  t.is((await userinfo(tvAccessToken)).status, 200, 'the TV is signed in');

  // A second TV's confirmation page, in the same browser, offers "Not you?" to whoever is in front of it.
  const secondTv = await oidc.initiateDeviceAuthorization(tvConfig, { scope: 'openid' });
  const confirmPage = await openCompleteVerificationUri(browser, secondTv);
  const form = readForm(await confirmPage.text(), 'device-account-switch');
  const id = requestId('not-you');
  const switched = await browser.request(form.action, { form: form.fields, headers: { 'x-request-id': id } });
  t.is(switched.status, 303);

  await publishedOnce(t, server, grant, { type: 'account', id: grant.accountId, client_id: null }, 'signed_out', id);
  t.deepEqual(await grantIdsOf(server, grant.accountId, clientId), [], 'the grant is no longer stored');
  // A grant without offline access never had a refresh token; the access token it did have goes with it.
  t.is((await userinfo(tvAccessToken)).status, 401, 'its access token is dead');
  const refreshed = await oidc.refreshTokenGrant(appConfig, appTokens.refresh_token!);
  t.truthy(refreshed.access_token, 'the offline grant’s refresh token still works');
});

test('suspending an account publishes one grant.revoked per grant, by the platform owner', async (t) => {
  const server = await startTestServer(t, { env: { PLATFORM_OWNER_EMAIL: QUEEN } });
  const queen = await apiToken(server, QUEEN, ['platform:manage']);
  const { id: queenId } = await accountByEmail(server, QUEEN);
  const client = await registerClient(server.app);
  await codeFlowWithOfflineAccess(server.url, await discover(server.url, client.clientId, client.clientSecret), PERSON);
  await signedInAt(server, '/account', PERSON);
  const { id: accountId } = await accountByEmail(server, PERSON);
  const grants = await createGrantRepository(server.app.services.db).findByAccount(accountId);
  t.true(grants.length >= 2, 'the app’s grant and the account pages’ own');

  const id = requestId('suspend');
  const response = await fetch(`${server.url}/api/platform/accounts/${accountId}/suspend`, {
    method: 'POST',
    headers: { authorization: `Bearer ${queen}`, 'content-type': 'application/json', 'x-request-id': id },
    body: JSON.stringify({ reason: 'Selling fake DUST' }),
  });
  t.is(response.status, 200);

  const events = await revokedEvents(server, accountId);
  t.deepEqual(
    events.map((event) => event.data.grant_ids).sort(),
    grants.map((grant) => [grant.id]).sort(),
    'one event for each grant',
  );
  const clientOf = new Map(grants.map((grant) => [grant.id, grant.clientId]));
  for (const event of events) {
    t.deepEqual(event.actor, { type: 'account', id: queenId });
    t.is(event.data.reason, 'account_suspended');
    t.is(event.request_id, id);
    t.is(event.data.client_id, clientOf.get((event.data.grant_ids as string[])[0]!));
  }
  t.deepEqual(await revokedEvents(server, queenId), [], 'the platform owner’s own grant stays');
});

test('a builder deleting their app publishes one grant.revoked for each person who had connected it', async (t) => {
  const server = await startTestServer(t);
  const builderEmail = 'builder@example.com';
  const { client: builderBrowser, html } = await signedInAt(server, '/account/developer', builderEmail);
  await submitForm(builderBrowser, html, '/account/developer/builder', { builder: 'on' });
  const token = await apiToken(server, builderEmail, ['clients:write']);
  const { id: builderId } = await accountByEmail(server, builderEmail);
  const registered = await callApi(server, token, 'POST', '/api/clients', {
    client_name: 'Builder Notes',
    redirect_uris: [RP_REDIRECT],
  });
  t.is(registered.status, 201);
  const clientId = registered.body!.client_id as string;
  const config = await discover(server.url, clientId, registered.body!.client_secret as string);
  await codeFlowWithOfflineAccess(server.url, config, PERSON);
  const grant = await grantOf(server, PERSON, clientId);

  const id = requestId('delete-app');
  const response = await fetch(`${server.url}/api/clients/${clientId}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}`, 'x-request-id': id },
  });
  t.is(response.status, 204);

  await publishedOnce(t, server, grant, { type: 'account', id: builderId }, 'client_deleted', id);
});

test('disconnecting an app on the account page still publishes one grant.revoked', async (t) => {
  const { server, grant } = await signedInToApp(t);
  const { client: browser, html } = await signedInAt(server, '/account/apps', PERSON);

  const id = requestId('disconnect');
  const fields = { client: grant.clientId, confirm: 'yes' };
  const { response } = await submitForm(browser, html, '/account/apps/disconnect', fields, { 'x-request-id': id });
  t.is(response.status, 303);

  await publishedOnce(t, server, grant, { type: 'account', id: grant.accountId, client_id: null }, 'disconnected', id);
});

test('deleting an organization publishes one grant.revoked for each person who had connected its apps', async (t) => {
  const server = await startTestServer(t, { env: { ORG_APPROVAL: 'auto' } });
  const ownerEmail = 'owner@example.com';
  const owner = await apiToken(server, ownerEmail, ['organizations:read', 'organizations:write']);
  const { id: ownerId } = await accountByEmail(server, ownerEmail);
  const org = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'Wren Works', slug: 'wren' })).body!;
  const registered = await callApi(server, owner, 'POST', `/api/organizations/${org.id}/clients`, {
    client_name: 'Wren Notes',
    redirect_uris: [RP_REDIRECT],
  });
  t.is(registered.status, 201);
  const clientId = registered.body!.client_id as string;
  const config = await discover(server.url, clientId, registered.body!.client_secret as string);
  const tokens = await codeFlowWithOfflineAccess(server.url, config, PERSON);
  const grant = await grantOf(server, PERSON, clientId);

  const id = requestId('delete-organization');
  const response = await fetch(`${server.url}/api/organizations/${org.id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${owner}`, 'x-request-id': id },
  });
  t.is(response.status, 204);

  await publishedOnce(t, server, grant, { type: 'account', id: ownerId }, 'client_deleted', id);
  t.deepEqual(await grantIdsOf(server, grant.accountId, clientId), [], 'the grant is no longer stored');
  await t.throwsAsync(oidc.refreshTokenGrant(config, tokens.refresh_token!), undefined, 'its refresh token is dead');
});
