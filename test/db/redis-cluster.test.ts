import test from 'ava';
import * as oidc from 'openid-client';
import { createTestDatabase } from '../helpers/database.ts';
import { redisServerAvailable, startRedisCluster } from '../helpers/redis-cluster.ts';
import { discover, pkcePair, registerClient, RP_REDIRECT } from '../helpers/relying-party.ts';
import { startServer } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';

// Needs the redis-server binary (CI installs none of its own: the machine's Redis package has it).
const withRedis = redisServerAvailable ? test : test.skip;

withRedis('sign-in, refresh with rotation and revocation work on a real Redis Cluster', async (t) => {
  const cluster = await startRedisCluster();
  const database = await createTestDatabase();
  const server = await startServer({
    ...database.env,
    REDIS_URL: cluster.url,
    REDIS_CLUSTER: 'true',
    REDIS_PREFIX: 'fairyid-cluster:',
  });
  t.teardown(async () => {
    await server.stop();
    await database.drop();
    await cluster.stop();
  });

  const { clientId, clientSecret } = await registerClient(server.app);
  const config = await discover(server.url, clientId, clientSecret);
  const { verifier, challenge } = await pkcePair();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid email offline_access',
    prompt: 'consent',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const { url: callback } = await signInThroughPages(server.url, url.href, 'cluster@example.com');
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
  t.is((await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub)).email, 'cluster@example.com');

  const rotated = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  server.clock.advance(11); // past the refresh-token grace window
  const reuse = await t.throwsAsync<oidc.ResponseBodyError>(oidc.refreshTokenGrant(config, tokens.refresh_token!));
  t.is(reuse?.error, 'invalid_grant');
  t.false((await oidc.tokenIntrospection(config, rotated.access_token)).active, 'reuse revoked the grant');

  const ready = (await (await fetch(`${server.url}/ready`)).json()) as { redis: boolean };
  t.true(ready.redis);
});
