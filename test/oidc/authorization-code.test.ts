import test from 'ava';
import * as oidc from 'openid-client';
import { startTestServer } from '../helpers/server.ts';
import { discover, pkcePair, registerClient } from '../helpers/relying-party.ts';
import { codeFlowWithOfflineAccess, signInThroughPages } from '../helpers/sign-in.ts';

async function signIn(t: Parameters<typeof startTestServer>[0], email = 'ada@example.com') {
  const server = await startTestServer(t);
  const { clientId, clientSecret } = await registerClient(server.app);
  const config = await discover(server.url, clientId, clientSecret);
  return { server, config, tokens: await codeFlowWithOfflineAccess(server.url, config, email) };
}

test('a person signs in with an emailed code and the relying party gets a valid ID token and userinfo', async (t) => {
  const { config, tokens } = await signIn(t);
  const claims = tokens.claims()!;
  t.deepEqual(claims.amr, ['otp']);
  t.is(typeof claims.auth_time, 'number');
  // OIDC Core 5.4: with an access token issued, scope claims come from userinfo, not the ID token.
  t.is(claims.email, undefined);
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  t.is(userinfo.email, 'ada@example.com');
  t.true(userinfo.email_verified);
  t.regex(String(userinfo.preferred_username), /^[a-z]+_[a-z]+_\d{4}$/);
  t.is(typeof userinfo.updated_at, 'number');
});

test('signing in again reuses the account and its fairyname', async (t) => {
  const first = await signIn(t, 'grace@example.com');
  const { clientId, clientSecret } = await registerClient(first.server.app);
  const config = await discover(first.server.url, clientId, clientSecret);
  const { verifier, challenge } = await pkcePair();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: 'http://127.0.0.1:9/callback',
    scope: 'openid profile',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    prompt: 'login',
  });
  const { url: callback } = await signInThroughPages(first.server.url, url.href, 'grace@example.com');
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
  t.is(tokens.claims()!.sub, first.tokens.claims()!.sub);
  const before = await oidc.fetchUserInfo(first.config, first.tokens.access_token, first.tokens.claims()!.sub);
  const after = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
  t.is(after.preferred_username, before.preferred_username);
});

test('refresh tokens rotate, and reusing a rotated refresh token after the grace window revokes the grant', async (t) => {
  const { server, config, tokens } = await signIn(t);
  t.truthy(tokens.refresh_token);
  const rotated = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  t.truthy(rotated.refresh_token);
  t.not(rotated.refresh_token, tokens.refresh_token);
  // Within REFRESH_TOKEN_REUSE_GRACE_SECONDS one retry is answered (see refresh-grace.test.ts).
  server.clock.advance(11);

  const reuse = await t.throwsAsync(oidc.refreshTokenGrant(config, tokens.refresh_token!));
  t.is((reuse as oidc.ResponseBodyError).error, 'invalid_grant');

  // The whole grant is gone: the newest refresh token and the access tokens die with it.
  const after = await t.throwsAsync(oidc.refreshTokenGrant(config, rotated.refresh_token!));
  t.is((after as oidc.ResponseBodyError).error, 'invalid_grant');
  const introspection = await oidc.tokenIntrospection(config, rotated.access_token);
  t.false(introspection.active);
});

test('a token for the API resource is an RFC 9068 JWT carrying the granted API scope', async (t) => {
  const server = await startTestServer(t);
  const { clientId, clientSecret } = await registerClient(server.app);
  const config = await discover(server.url, clientId, clientSecret);
  const { verifier, challenge } = await pkcePair();
  const resource = `${server.url}/api`;
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: 'http://127.0.0.1:9/callback',
    scope: 'openid account:read',
    resource,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const { url: callback, html } = await signInThroughPages(server.url, url.href, 'api@example.com');
  t.false(html.includes('Allow access?'), 'consent was completed');
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier }, { resource });
  const [header, payload] = tokens.access_token
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
  t.is(header.typ, 'at+jwt');
  t.is(payload.aud, resource);
  t.is(payload.scope, 'account:read');
  t.is(payload.sub, tokens.claims()!.sub);
});
