import test from 'ava';
import type { ExecutionContext } from 'ava';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { discover, pkcePair, registerClient, RP_REDIRECT } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';

/** A machine client, as `clients add --grant-type client_credentials --scope account:read` makes it. */
async function machineClient(t: ExecutionContext) {
  const server = await startTestServer(t);
  const { clientId, clientSecret } = await registerClient(server.app, {
    name: 'Nightly job',
    redirectUris: [],
    postLogoutRedirectUris: [],
    grantTypes: ['client_credentials'],
    scope: 'account:read',
  });
  const config = await discover(server.url, clientId, clientSecret);
  return { server, clientId, config };
}

/** A person signs in to a web app; the app gets an opaque access token and a refresh token. */
async function personTokens(t: ExecutionContext) {
  const server = await startTestServer(t);
  const { clientId, clientSecret } = await registerClient(server.app);
  const config = await discover(server.url, clientId, clientSecret);
  const { verifier, challenge } = await pkcePair();
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid email offline_access',
    prompt: 'consent',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const { url } = await signInThroughPages(server.url, authorizationUrl.href, 'introspected@example.com');
  const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier });
  return { server, clientId, config, tokens };
}

test('a machine client gets an RFC 9068 JWT access token for the API that verifies against the published JWKS', async (t) => {
  const { server, clientId, config } = await machineClient(t);
  const tokens = await oidc.clientCredentialsGrant(config, { scope: 'account:read' });
  t.is(tokens.token_type.toLowerCase(), 'bearer');
  t.is(tokens.refresh_token, undefined, 'a machine has no use for refresh tokens (RFC 6749 4.4.3)');
  t.is(tokens.id_token, undefined, 'no person signed in, so there is no ID token');

  // An API verifies the token as any RFC 9068 resource server would: keys from the JWKS URI only.
  const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
  const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
    issuer: server.url,
    audience: `${server.url}/api`,
    typ: 'at+jwt',
  });
  t.is(protectedHeader.alg, 'ES256');
  t.is(payload.scope, 'account:read');
  t.is(payload.client_id, clientId);
  t.is(typeof payload.exp, 'number');
  t.is(typeof payload.jti, 'string');
});

test('an access token whose claims were altered fails verification against our JWKS', async (t) => {
  // Guards the previous test: the signature, not just the token's shape, is what gets checked.
  const { config } = await machineClient(t);
  const tokens = await oidc.clientCredentialsGrant(config, { scope: 'account:read' });
  const [header, payload, signature] = tokens.access_token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const forged = Buffer.from(JSON.stringify({ ...claims, scope: 'account:read admin' })).toString('base64url');
  const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
  await t.throwsAsync(jwtVerify(`${header}.${forged}.${signature}`, jwks), {
    code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  });
});

test('a machine client asking for a scope beyond its registered one gets invalid_scope', async (t) => {
  const { config } = await machineClient(t);
  const error = await t.throwsAsync(oidc.clientCredentialsGrant(config, { scope: 'account:read email' }));
  t.true(error instanceof oidc.ResponseBodyError);
  t.is((error as oidc.ResponseBodyError).error, 'invalid_scope');
});

test("introspection says a person's opaque access token is active, for that person and client", async (t) => {
  const { clientId, config, tokens } = await personTokens(t);
  t.is(tokens.access_token.split('.').length, 1, 'without a resource, the access token is opaque');
  const introspection = await oidc.tokenIntrospection(config, tokens.access_token);
  t.true(introspection.active);
  t.is(introspection.sub, tokens.claims()!.sub);
  t.is(introspection.client_id, clientId);
  t.is(introspection.token_type, 'Bearer');
  t.regex(String(introspection.scope), /\bemail\b/);
});

test('a revoked access token introspects as inactive and no longer opens userinfo', async (t) => {
  const { config, tokens } = await personTokens(t);
  await oidc.tokenRevocation(config, tokens.access_token, { token_type_hint: 'access_token' });

  const introspection = await oidc.tokenIntrospection(config, tokens.access_token);
  t.false(introspection.active);
  // RFC 7662 2.2: an inactive token reveals nothing else.
  t.deepEqual(Object.keys(introspection), ['active']);
  const userinfo = await t.throwsAsync(oidc.fetchUserInfo(config, tokens.access_token, oidc.skipSubjectCheck));
  t.true(userinfo instanceof oidc.WWWAuthenticateChallengeError);
});

test('a revoked refresh token can no longer be used to refresh', async (t) => {
  const { config, tokens } = await personTokens(t);
  t.truthy(tokens.refresh_token);
  await oidc.tokenRevocation(config, tokens.refresh_token!, { token_type_hint: 'refresh_token' });

  const error = await t.throwsAsync(oidc.refreshTokenGrant(config, tokens.refresh_token!));
  t.true(error instanceof oidc.ResponseBodyError);
  t.is((error as oidc.ResponseBodyError).error, 'invalid_grant');
});

test("a client cannot revoke or introspect another client's token", async (t) => {
  const { server, config, tokens } = await personTokens(t);
  const other = await registerClient(server.app, { name: 'Other RP' });
  const otherConfig = await discover(server.url, other.clientId, other.clientSecret);

  // RFC 7009 2.1: a token that belongs to someone else is left alone (and the answer is still 200).
  await oidc.tokenRevocation(otherConfig, tokens.access_token);
  const introspection = await oidc.tokenIntrospection(config, tokens.access_token);
  t.true(introspection.active, 'still active for its own client');
  const seenByOther = await oidc.tokenIntrospection(otherConfig, tokens.access_token);
  t.false(seenByOther.active, 'another client learns nothing about it');
});
