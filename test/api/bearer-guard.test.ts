import test, { type ExecutionContext } from 'ava';
import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { accountByEmail } from '../helpers/account-pages.ts';
import { apiToken, apiTokens, callApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { redisServerAvailable, startRedisCluster } from '../helpers/redis-cluster.ts';
import { startServer, startTestServer, twoInstances, type TestServer } from '../helpers/server.ts';
import { discover, pkcePair, registerClient, RP_REDIRECT } from '../helpers/relying-party.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';

const personToken = (server: TestServer) => apiToken(server, 'guard@example.com', ['account:read']);

async function machineToken(server: TestServer) {
  const { clientId, clientSecret } = await registerClient(server.app, {
    grantTypes: ['client_credentials'],
    redirectUris: [],
    postLogoutRedirectUris: [],
    scope: 'account:read',
  });
  const config = await discover(server.url, clientId, clientSecret);
  return (await oidc.clientCredentialsGrant(config, { scope: 'account:read' })).access_token;
}

const me = (server: TestServer, authorization?: string) =>
  fetch(`${server.url}/api/me`, { headers: authorization ? { authorization } : {} });

/** Signs a token with the server's own current ES256 key, to forge claims a test wants to break. */
async function forge(server: TestServer, claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  const jwk = (await server.app.services.keys.loadPublished()).find((key) => key.alg === 'ES256') as JWK;
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: server.url,
    aud: `${server.url}/api`,
    sub: 'someone',
    iat: now,
    exp: now + 60,
    // A registered client (our pages'): a token naming a client that does not exist is refused.
    client_id: 'fairyid-pages',
    scope: 'account:read',
    jti: 'j1',
    ...claims,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid, ...header })
    .sign(await importJWK(jwk, 'ES256'));
}

async function expectError(
  t: { is: (a: unknown, b: unknown) => void; regex: (a: string, r: RegExp) => void },
  response: Response,
  status: number,
  error: string,
) {
  t.is(response.status, status);
  const body = (await response.json()) as { error: string; error_description: string };
  t.is(body.error, error);
  t.regex(body.error_description, /\w/);
  if (status === 401) t.regex(response.headers.get('www-authenticate') ?? '', /^Bearer realm="fairyid"/);
}

test('a person’s API token reads their own profile at /api/me', async (t) => {
  const server = await startTestServer(t);
  const response = await me(server, `Bearer ${await personToken(server)}`);
  t.is(response.status, 200);
  const body = (await response.json()) as { email: string; fairyname: string };
  t.is(body.email, 'guard@example.com');
  t.regex(body.fairyname, /^[a-z]+_[a-z]+_\d{4}$/);
});

test('no token, or a malformed header, gets 401 with a Bearer challenge', async (t) => {
  const server = await startTestServer(t);
  await expectError(t, await me(server), 401, 'invalid_token');
  await expectError(t, await me(server, 'Basic abc'), 401, 'invalid_token');
  await expectError(t, await me(server, 'Bearer a.b.c'), 401, 'invalid_token');
});

test('the Authorization header is one scheme, one space and a token of three parts; the scheme in any case', async (t) => {
  const server = await startTestServer(t);
  const token = await personToken(server);
  const [h, p, s] = token.split('.');
  // The control: the same token passes, with the scheme in any case, and the answer is JSON.
  for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
    const response = await me(server, `${scheme} ${token}`);
    t.is(response.status, 200, scheme);
    t.is(response.headers.get('content-type'), 'application/json; charset=utf-8', scheme);
    t.like(await response.json(), { email: 'guard@example.com' }, scheme);
  }
  // RFC 6750 3.1: no usable credentials, so the challenges carry no error code.
  const noCredentials = {
    'two spaces': `Bearer  ${token}`,
    'a second token': `Bearer ${token} ${token}`,
    'no token': 'Bearer',
    'no scheme': token,
    'another scheme': `Basic ${token}`,
  };
  for (const [name, authorization] of Object.entries(noCredentials)) {
    const response = await me(server, authorization);
    t.is(response.status, 401, name);
    t.notRegex(response.headers.get('www-authenticate') ?? '', /error=/, name);
    t.regex(((await response.json()) as { error_description: string }).error_description, /is required/, name);
  }
  // Not a JWS in compact form, hence not a token issued for this API.
  for (const [name, authorization] of Object.entries({
    'two parts': `Bearer ${h}.${p}`,
    'four parts': `Bearer ${token}.${s}`,
  })) {
    const response = await me(server, authorization);
    t.is(response.status, 401, name);
    t.regex(
      ((await response.json()) as { error_description: string }).error_description,
      /not issued for this API/,
      name,
    );
  }
});

test('a token without the route’s scope gets 403 insufficient_scope', async (t) => {
  const server = await startTestServer(t);
  const token = await forge(server, { scope: 'openid' });
  const response = await me(server, `Bearer ${token}`);
  t.is(response.status, 403);
  t.regex(response.headers.get('www-authenticate') ?? '', /error="insufficient_scope", scope="account:read"/);
  t.is(((await response.json()) as { error: string }).error, 'insufficient_scope');
});

test('a client-credentials token is valid but is nobody’s account', async (t) => {
  const server = await startTestServer(t);
  await expectError(t, await me(server, `Bearer ${await machineToken(server)}`), 403, 'person_required');
});

test('expired, wrong-issuer, wrong-audience, wrong-type, unknown-client, tampered, unsigned and unknown-key tokens are refused', async (t) => {
  const server = await startTestServer(t);
  const now = Math.floor(Date.now() / 1000);
  const cases: Record<string, string> = {
    expired: await forge(server, { exp: now - 60, iat: now - 120 }),
    'wrong issuer': await forge(server, { iss: 'https://evil.example' }),
    'wrong audience': await forge(server, { aud: 'https://other.example/api' }),
    'wrong typ': await forge(server, {}, { typ: 'JWT' }),
    'client that does not exist (or was deleted)': await forge(server, { client_id: 'deleted-app' }),
  };
  const genuine = await forge(server, {});
  // The control: the same forge without a defect passes the guard and reaches the route.
  t.is((await me(server, `Bearer ${genuine}`)).status, 404, 'a well-formed token for an unknown account');
  const [h, p, s] = genuine.split('.');
  const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
  cases.tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'admin' })).toString('base64url')}.${s}`;
  cases['alg none'] = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${p}.`;
  const stranger = await generateKeyPair('ES256');
  cases['unknown kid'] = await new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'not-ours' })
    .sign(stranger.privateKey);
  for (const [name, token] of Object.entries(cases)) {
    const response = await me(server, `Bearer ${token}`);
    t.is(response.status, 401, name);
    t.regex(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/, name);
  }
});

test('an opaque token issued without resource=ISSUER/api is refused at /api, whatever API scopes it holds', async (t) => {
  const server = await startTestServer(t);
  const { clientId, clientSecret } = await registerClient(server.app);
  const config = await discover(server.url, clientId, clientSecret);
  const { verifier, challenge } = await pkcePair();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid email account:read',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const { url: callback } = await signInThroughPages(server.url, url.href, 'opaque@example.com');
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
  t.is(tokens.access_token.split('.').length, 1, 'without a resource the access token is opaque, for userinfo');
  t.regex(tokens.scope ?? '', /\baccount:read\b/, 'and it holds the API scope it asked for');
  // The control: the token is genuine, and userinfo takes it.
  t.like(await oidc.fetchUserInfo(config, tokens.access_token, oidc.skipSubjectCheck), { email: 'opaque@example.com' });
  for (const path of ['/api/me', '/api/whoami']) {
    const response = await fetch(`${server.url}${path}`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    t.is(response.status, 401, path);
    const body = (await response.json()) as { error: string; error_description: string };
    t.is(body.error, 'invalid_token', path);
    t.regex(body.error_description, /not issued for this API: ask for it with resource=/, path);
  }
});

test('a token signed before a key rotation works until its key is retired', async (t) => {
  const server = await startTestServer(t);
  const token = await personToken(server);
  await server.app.services.keys.rotate();
  await server.app.provider.refreshKeys();
  t.is((await me(server, `Bearer ${token}`)).status, 200);
  await server.app.services.keys.retire();
  await server.app.provider.refreshKeys();
  await expectError(t, await me(server, `Bearer ${token}`), 401, 'invalid_token');
});

test('unknown API routes answer in the JSON error shape', async (t) => {
  const server = await startTestServer(t);
  await expectError(t, await fetch(`${server.url}/api/nothing-here`), 404, 'not_found');
});

test('a JWT whose grant was revoked is refused, even after it was cached as valid', async (t) => {
  const server = await startTestServer(t);
  const { config, tokens } = await apiTokens(server, 'guard@example.com', ['offline_access', 'account:read']);
  t.is((await me(server, `Bearer ${tokens.access_token}`)).status, 200, 'verified and cached');
  await oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource: `${server.url}/api` });
  // Reusing the rotated refresh token past its grace window revokes the grant (Security BCP 4.14.2).
  server.clock.advance(11);
  await t.throwsAsync(oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource: `${server.url}/api` }));
  await expectError(t, await me(server, `Bearer ${tokens.access_token}`), 401, 'invalid_token');
});

// A person's token has two marks read on every request, its grant's and its account's: with one
// command where the store takes it, two on a Redis Cluster. Both must refuse, on the instance that
// set the mark and on another sharing the store, also for a token verified and cached before.

const QUEEN = 'queen@example.com';
const PIXIE = 'pixie@example.com';
const OWNER_ENV = { PLATFORM_OWNER_EMAIL: QUEEN };

const whoami = (server: TestServer, token: string) => callApi(server, token, 'GET', '/api/whoami');

/**
 * `a` revokes a grant (refresh-token reuse) and suspends its account; `b` (`a` itself, or another
 * instance on the same store) must refuse the grant's token, and a token of an unrevoked grant of
 * that account, from then on, after having taken both while they were good.
 */
async function refusesRevokedAndSuspended(t: ExecutionContext, a: TestServer, b: TestServer) {
  const queen = await apiToken(a, QUEEN, ['platform:manage']);
  const { config, tokens } = await apiTokens(a, PIXIE, ['offline_access', 'account:read']);
  const { id } = await accountByEmail(a, PIXIE);
  // A grant nobody revoked (issued, say, while the suspension listed the grants): only the account's mark refuses it.
  const unrevoked = await forge(a, { sub: id, grant_id: `grant-never-revoked-${id}` });
  // The controls, which also leave both tokens verified and cached on both instances.
  for (const server of new Set([a, b])) {
    t.is((await whoami(server, tokens.access_token)).status, 200, 'control: the grant’s token passes');
    t.is((await whoami(server, unrevoked)).status, 200, 'control: the unrevoked grant’s token passes');
  }

  await oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource: `${a.url}/api` });
  // Reusing the rotated refresh token past its grace window revokes the grant (Security BCP 4.14.2).
  a.clock.advance(11);
  await t.throwsAsync(oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource: `${a.url}/api` }));
  const revoked = await whoami(b, tokens.access_token);
  t.is(revoked.status, 401);
  t.regex(revoked.body!.error_description, /was revoked/);
  t.is((await whoami(b, unrevoked)).status, 200, 'another grant of the account still passes');

  t.is((await callApi(a, queen, 'POST', `/api/platform/accounts/${id}/suspend`, { reason: 'Fake DUST' })).status, 200);
  const blocked = await whoami(b, unrevoked);
  t.is(blocked.status, 401);
  t.regex(blocked.body!.error_description, /suspended or deleted/);
}

test('a person’s token is refused once its grant is revoked or its account suspended', async (t) => {
  const server = await startTestServer(t, { env: OWNER_ENV });
  await refusesRevokedAndSuspended(t, server, server);
});

const shared = process.env.DATABASE_URL && process.env.REDIS_URL ? test : test.skip;

shared(
  'another instance on the same Redis refuses a revoked grant’s token and a suspended account’s at once',
  async (t) => {
    const { a, b } = await twoInstances(t, OWNER_ENV);
    await refusesRevokedAndSuspended(t, a, b);
  },
);

// Needs the redis-server binary, as test/db/redis-cluster.test.ts does.
const withRedis = redisServerAvailable ? test : test.skip;

withRedis('on a Redis Cluster, where the two marks live in different slots, both still refuse', async (t) => {
  const cluster = await startRedisCluster();
  const database = await createTestDatabase();
  const server = await startServer({
    ...database.env,
    ...OWNER_ENV,
    REDIS_URL: cluster.url,
    REDIS_CLUSTER: 'true',
    REDIS_PREFIX: 'fairyid-marks:',
  });
  t.teardown(async () => {
    await server.stop();
    await database.drop();
    await cluster.stop();
  });
  await refusesRevokedAndSuspended(t, server, server);
});
