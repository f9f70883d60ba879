import test, { type ExecutionContext } from 'ava';
import { importJWK, SignJWT, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { accountByEmail } from '../helpers/account-pages.ts';
import { apiToken, apiTokens, callApi } from '../helpers/api.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { redisServerAvailable, startRedisCluster } from '../helpers/redis-cluster.ts';
import { startServer, startTestServer, twoInstances, type TestServer } from '../helpers/server.ts';

// A person's /api token has two marks read on every request, its grant's and its account's, read
// with one command where the store takes it and two on a Redis Cluster. These tests hold the guard
// to refusing both, on the instance that set the mark and on another one sharing the store.

const QUEEN = 'queen@example.com';
const PIXIE = 'pixie@example.com';
const OWNER_ENV = { PLATFORM_OWNER_EMAIL: QUEEN };

const whoami = (server: TestServer, token: string) => callApi(server, token, 'GET', '/api/whoami');

/** A token of a grant nobody revoked (issued, say, while the suspension listed the grants): only the account's mark can refuse it. */
async function tokenOfUnrevokedGrant(server: TestServer, accountId: string) {
  const jwk = (await server.app.services.keys.loadPublished()).find((key) => key.alg === 'ES256') as JWK;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: server.url,
    aud: `${server.url}/api`,
    sub: accountId,
    iat: now,
    exp: now + 60,
    client_id: 'fairyid-pages',
    scope: 'account:read',
    jti: `j-${now}`,
    grant_id: `grant-never-revoked-${now}`,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid })
    .sign(await importJWK(jwk, 'ES256'));
}

/**
 * `a` revokes a grant (refresh-token reuse) and suspends its account; `b` (`a` itself, or another
 * instance on the same store) must refuse the grant's token, and a token of an unrevoked grant of
 * that account, from then on, after having taken both while they were good.
 */
async function refusesRevokedAndSuspended(t: ExecutionContext, a: TestServer, b: TestServer) {
  const queen = await apiToken(a, QUEEN, ['platform:manage']);
  const { config, tokens } = await apiTokens(a, PIXIE, ['offline_access', 'account:read']);
  const { id } = await accountByEmail(a, PIXIE);
  const unrevoked = await tokenOfUnrevokedGrant(a, id);
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
