import test from 'ava';
import { importJWK, SignJWT, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { accountByEmail, signedInAt } from '../helpers/account-pages.ts';
import { apiToken, apiTokens, callApi } from '../helpers/api.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, twoInstances, type TestServer } from '../helpers/server.ts';
import { codeFlowWithOfflineAccess, signInThroughPages } from '../helpers/sign-in.ts';
import { CLAIMS_CACHE_SECONDS } from '../../src/accounts/account.service.ts';

const QUEEN = 'queen@example.com';
const PIXIE = 'pixie@example.com';
const OWNER_ENV = { PLATFORM_OWNER_EMAIL: QUEEN };

async function refreshError(config: oidc.Configuration, refreshToken: string, parameters?: Record<string, string>) {
  try {
    await oidc.refreshTokenGrant(config, refreshToken, parameters);
    return undefined;
  } catch (error) {
    return (error as oidc.ResponseBodyError).error;
  }
}

/** Everything a person holds: an app with a refresh token and an opaque access token, an API token, and a signed-in browser. */
async function pixieEverywhere(server: TestServer) {
  const { clientId, clientSecret } = await registerClient(server.app, { name: 'Pixie Notes' });
  const notesConfig = await discover(server.url, clientId, clientSecret);
  const notes = await codeFlowWithOfflineAccess(server.url, notesConfig, PIXIE);
  const api = await apiTokens(server, PIXIE, ['offline_access', 'account:read']);
  const browser = await signedInAt(server, '/account', PIXIE);
  return { notesConfig, notes, api, browser };
}

const suspend = (server: TestServer, token: string, id: string, body: unknown = { reason: 'Selling fake DUST' }) =>
  callApi(server, token, 'POST', `/api/platform/accounts/${id}/suspend`, body);

test('suspending an account ends its sessions, revokes its grants, refuses its tokens and its sign-in', async (t) => {
  const server = await startTestServer(t, { env: OWNER_ENV });
  const queen = await apiToken(server, QUEEN, ['platform:manage']);
  const pixie = await pixieEverywhere(server);
  const { id } = await accountByEmail(server, PIXIE);
  const resource = `${server.url}/api`;

  // Control: all of it works before.
  t.is((await callApi(server, pixie.api.tokens.access_token, 'GET', '/api/me')).status, 200);
  t.true((await oidc.tokenIntrospection(pixie.notesConfig, pixie.notes.access_token)).active);
  t.is((await pixie.browser.client.request('/account')).status, 200);

  const suspended = await suspend(server, queen, id);
  t.is(suspended.status, 200);
  t.like(suspended.body, { id, status: 'suspended', status_reason: 'Selling fake DUST' });

  const me = await fetch(`${server.url}/api/me`, {
    headers: { authorization: `Bearer ${pixie.api.tokens.access_token}` },
  });
  t.is(me.status, 401, '/api refuses the API token');
  t.regex(me.headers.get('www-authenticate') ?? '', /^Bearer realm="fairyid", error="invalid_token"/);
  t.is(await refreshError(pixie.api.config, pixie.api.tokens.refresh_token!, { resource }), 'invalid_grant');
  t.is(await refreshError(pixie.notesConfig, pixie.notes.refresh_token!), 'invalid_grant');
  t.false((await oidc.tokenIntrospection(pixie.notesConfig, pixie.notes.access_token)).active);
  await t.throwsAsync(oidc.fetchUserInfo(pixie.notesConfig, pixie.notes.access_token, oidc.skipSubjectCheck));

  const page = await pixie.browser.client.request('/account');
  t.is(page.status, 302, 'the browser’s session is gone: it is sent to sign in');
  t.regex(page.headers.get('location') ?? '', /\/auth\?/);
  const live = await server.app.services.db
    .selectFrom('account_sessions')
    .select('ended_at')
    .where('account_id', '=', id)
    .execute();
  t.true(live.length > 0 && live.every((row) => row.ended_at !== null), 'every session is ended');

  const again = await signInThroughPages(server.url, `${server.url}/account`, PIXIE);
  t.is(again.response.status, 403, 'signing in again is refused');
  t.regex(again.html, /This account is suspended by the FairyID platform owner/);
  t.not(again.url.pathname, '/account');

  const events = await server.app.services.audit.recentFor(id, 50);
  const record = events.find((event) => event.event === 'account_suspended');
  const queenId = (await accountByEmail(server, QUEEN)).id;
  t.like(record?.detail, { reason: 'Selling fake DUST', by: queenId });
  t.is(record?.ip, null, 'the person’s trail does not show where the platform owner was');
  t.is(record?.user_agent, null);
  t.true(((record?.detail as { grants?: number } | undefined)?.grants ?? 0) >= 2);
  t.true(events.some((event) => event.event === 'sign_in_refused' && event.outcome === 'failure'));
  t.is((await suspend(server, queen, id)).body!.error, 'invalid_status_transition');
});

test('only the platform owner suspends, with a reason, and not their own account', async (t) => {
  const server = await startTestServer(t, { env: OWNER_ENV });
  const queen = await apiToken(server, QUEEN, ['platform:manage']);
  const rival = await apiToken(server, 'rival@example.com', ['platform:manage']);
  const target = await accountByEmail(server, 'rival@example.com');
  const queenAccount = await accountByEmail(server, QUEEN);

  const byRival = await suspend(server, rival, queenAccount.id);
  t.is(byRival.status, 403);
  t.is(byRival.body!.error, 'platform_owner_required');
  t.is((await suspend(server, queen, target.id, {})).status, 400, 'a reason is required');
  t.is((await suspend(server, queen, target.id, { reason: '   ' })).status, 400);
  const self = await suspend(server, queen, queenAccount.id);
  t.is(self.status, 409);
  t.is(self.body!.error, 'cannot_suspend_yourself');
  t.is((await suspend(server, queen, 'no-such-account')).body!.error, 'account_not_found');
  const withoutScope = await apiToken(server, QUEEN, ['account:read']);
  t.is((await suspend(server, withoutScope, target.id)).status, 403, 'platform:manage is needed');
  const reactivateActive = await callApi(server, queen, 'POST', `/api/platform/accounts/${target.id}/reactivate`, {});
  t.is(reactivateActive.status, 409);
  t.is((await accountByEmail(server, 'rival@example.com')).status, 'active', 'nothing changed');
  t.is((await callApi(server, rival, 'GET', '/api/whoami')).status, 200);
});

test('reactivation restores sign-in but not the revoked grants', async (t) => {
  const server = await startTestServer(t, { env: OWNER_ENV });
  const queen = await apiToken(server, QUEEN, ['platform:manage']);
  const pixie = await pixieEverywhere(server);
  const { id } = await accountByEmail(server, PIXIE);
  const resource = `${server.url}/api`;
  t.is((await suspend(server, queen, id)).status, 200);

  const reactivated = await callApi(server, queen, 'POST', `/api/platform/accounts/${id}/reactivate`, {});
  t.is(reactivated.status, 200);
  t.like(reactivated.body, { id, status: 'active', status_reason: null });

  const browser = await signedInAt(server, '/account', PIXIE);
  t.regex(browser.html, /pixie@example\.com/, 'the person signs in again to the same account');
  t.is((await accountByEmail(server, PIXIE)).id, id);
  t.is(await refreshError(pixie.api.config, pixie.api.tokens.refresh_token!, { resource }), 'invalid_grant');
  t.is(await refreshError(pixie.notesConfig, pixie.notes.refresh_token!), 'invalid_grant');
  t.is((await callApi(server, pixie.api.tokens.access_token, 'GET', '/api/me')).status, 401);
  const apps = await (await browser.client.request('/account/apps')).text();
  t.regex(apps, /No apps are connected to your account\./, 'the apps must ask again');

  const fresh = await apiToken(server, PIXIE, ['account:read']);
  t.is((await callApi(server, fresh, 'GET', '/api/me')).status, 200, 'a new grant works');
  const events = (await server.app.services.audit.recentFor(id, 50)).map((event) => event.event);
  t.true(events.includes('account_reactivated'));
});

/**
 * An API token of the account from a grant nobody revoked, signed with the server's own key: what an
 * instance whose claims cache still held the account as active could have issued just after the suspension.
 */
async function tokenOfUnrevokedGrant(server: TestServer, accountId: string) {
  const jwk = (await server.app.services.keys.loadPublished()).find((key) => key.alg === 'ES256') as JWK;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: server.url,
    aud: `${server.url}/api`,
    sub: accountId,
    iat: now,
    exp: now + 60,
    // A registered app: /api refuses tokens of clients that do not exist (any more).
    client_id: 'fairyid-pages',
    scope: 'account:read',
    jti: `j-${now}`,
    grant_id: `grant-issued-after-${now}`,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid })
    .sign(await importJWK(jwk, 'ES256'));
}

test('/api refuses a suspended account’s token even from a grant that was never revoked, until reactivation', async (t) => {
  const server = await startTestServer(t, { env: OWNER_ENV });
  const queen = await apiToken(server, QUEEN, ['platform:manage']);
  await apiToken(server, PIXIE, ['account:read']);
  const { id } = await accountByEmail(server, PIXIE);
  const before = await tokenOfUnrevokedGrant(server, id);
  t.is((await callApi(server, before, 'GET', '/api/whoami')).status, 200, 'control: such a token passes while active');

  t.is((await suspend(server, queen, id)).status, 200);
  const refused = await callApi(server, await tokenOfUnrevokedGrant(server, id), 'GET', '/api/whoami');
  t.is(refused.status, 401);
  t.regex(refused.body!.error_description, /suspended or deleted/);

  t.is((await callApi(server, queen, 'POST', `/api/platform/accounts/${id}/reactivate`, {})).status, 200);
  t.is((await callApi(server, await tokenOfUnrevokedGrant(server, id), 'GET', '/api/whoami')).status, 200);
});

// The claims cache is per instance: only two instances on shared storage show its delay.
const shared = process.env.DATABASE_URL && process.env.REDIS_URL ? test : test.skip;

/** A token-endpoint request sent to one instance (openid-client would go where discovery says: A). */
async function tokenRequestOn(
  server: TestServer,
  client: { clientId: string; clientSecret?: string | undefined },
  body: Record<string, string>,
  path = '/token',
) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(body),
  });
  return (await response.json()) as { refresh_token?: string; access_token?: string; error?: string; active?: boolean };
}

shared(
  'another instance’s claims cache may hold a suspended account for CLAIMS_CACHE_SECONDS, and nothing it issued survives',
  async (t) => {
    const { a, b, clock } = await twoInstances(t, OWNER_ENV);
    const queen = await apiToken(a, QUEEN, ['platform:manage']);
    const client = await registerClient(a.app, { name: 'Pixie Notes' });
    const config = await discover(a.url, client.clientId, client.clientSecret);
    const tokens = await codeFlowWithOfflineAccess(a.url, config, PIXIE);
    const { id } = await accountByEmail(a, PIXIE);
    // B reads the account for the refreshed tokens' claims, and keeps it.
    const refreshed = await tokenRequestOn(b, client, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token!,
    });
    t.truthy(refreshed.refresh_token);
    t.is((await b.app.services.accounts.findForClaims(id))?.status, 'active');

    t.is((await suspend(a, queen, id)).status, 200);
    t.is(
      (await a.app.services.accounts.findForClaims(id))?.status,
      'suspended',
      'the instance that suspended knows at once',
    );
    t.is((await b.app.services.accounts.findForClaims(id))?.status, 'active', 'B’s cache has not expired yet');
    // Yet B issues nothing: the tokens and grants are gone from the shared storage.
    const refusedOnB = await tokenRequestOn(b, client, {
      grant_type: 'refresh_token',
      refresh_token: refreshed.refresh_token!,
    });
    t.is(refusedOnB.error, 'invalid_grant');
    const introspected = await tokenRequestOn(b, client, { token: refreshed.access_token! }, '/token/introspection');
    t.false(introspected.active);

    clock.advance(CLAIMS_CACHE_SECONDS);
    t.is((await b.app.services.accounts.findForClaims(id))?.status, 'suspended', 'after the documented delay');
  },
);
