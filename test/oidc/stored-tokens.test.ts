import test from 'ava';
import { Redis } from 'ioredis';
import * as oidc from 'openid-client';
import { CLAIMS_CACHE_SECONDS } from '../../src/accounts/account.service.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { codeFlowWithOfflineAccess } from '../helpers/sign-in.ts';

const onRedis = process.env.REDIS_URL ? test : test.skip;

async function signIn(server: TestServer, email: string) {
  const { clientId, clientSecret } = await registerClient(server.app);
  const config = await discover(server.url, clientId, clientSecret);
  const tokens = await codeFlowWithOfflineAccess(server.url, config, email);
  return { config, tokens, sub: tokens.claims()!.sub };
}

async function userinfoStatus(server: TestServer, accessToken: string) {
  const response = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  return response.status;
}

test(`userinfo shows an email changed on another instance within ${CLAIMS_CACHE_SECONDS} s, and one changed here at once`, async (t) => {
  const server = await startTestServer(t);
  const { config, tokens, sub } = await signIn(server, 'cached@example.com');
  t.is((await oidc.fetchUserInfo(config, tokens.access_token, sub)).email, 'cached@example.com');

  // Written straight to the table, as another instance's change would be: this one learns of it by time.
  await server.app.services.db
    .updateTable('accounts')
    .set({ email: 'elsewhere@example.com' })
    .where('id', '=', sub)
    .execute();
  server.clock.advance(CLAIMS_CACHE_SECONDS + 1);
  t.is((await oidc.fetchUserInfo(config, tokens.access_token, sub)).email, 'elsewhere@example.com');

  // A change through the account service drops this instance's cached copy: no wait at all.
  t.like(await server.app.services.accounts.changeEmail(sub, 'changed@example.com'), { status: 'updated' });
  t.is((await oidc.fetchUserInfo(config, tokens.access_token, sub)).email, 'changed@example.com');

  // A refresh reads the same claims for its ID token.
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  t.is(refreshed.claims()!.sub, sub);
  t.is((await oidc.fetchUserInfo(config, refreshed.access_token, sub)).email, 'changed@example.com');
});

test('a refresh rotation has consumed the old token and stored its successor before it answers', async (t) => {
  const server = await startTestServer(t);
  const { config, tokens } = await signIn(server, 'rotation@example.com');
  const row = (id: string) =>
    server.app.services.db
      .selectFrom('oidc_payloads')
      .select(['consumed_at', 'grant_id'])
      .where('model', '=', 'RefreshToken')
      .where('id', '=', id)
      .executeTakeFirst();
  const before = await row(tokens.refresh_token!);
  t.is(before?.consumed_at, null);

  // Both halves are written by one statement (adapter.ts): read back the moment the answer arrives.
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  const [old, successor] = await Promise.all([row(tokens.refresh_token!), row(refreshed.refresh_token!)]);
  t.truthy(old?.consumed_at, 'the rotated token is consumed');
  t.is(successor?.consumed_at, null, 'its successor is stored, unconsumed');
  t.is(successor?.grant_id, before?.grant_id);

  // The successor rotates in turn, by the same single statement.
  const again = await oidc.refreshTokenGrant(config, refreshed.refresh_token!);
  t.truthy((await row(refreshed.refresh_token!))?.consumed_at);
  t.is((await row(again.refresh_token!))?.consumed_at, null);
});

test('introspection without a token_type_hint tells an access token from a refresh token, and revocation finds both', async (t) => {
  const server = await startTestServer(t);
  const { config, tokens } = await signIn(server, 'introspected@example.com');
  const access = await oidc.tokenIntrospection(config, tokens.access_token);
  const refresh = await oidc.tokenIntrospection(config, tokens.refresh_token!);
  t.like(access, { active: true, token_type: 'Bearer' });
  // oidc-provider names the type of access tokens only.
  t.like(refresh, { active: true, client_id: access.client_id, sub: access.sub });
  t.is(refresh.token_type, undefined);

  // An access token found by the lookup spares the refresh-token query (adapter.ts); a refresh token
  // is still found by its own, and an unknown value by neither.
  t.false((await oidc.tokenIntrospection(config, 'not-a-token-of-ours-at-all-0123456789abcdefgh')).active);
  await oidc.tokenRevocation(config, tokens.refresh_token!);
  t.false((await oidc.tokenIntrospection(config, tokens.refresh_token!)).active);
  t.false((await oidc.tokenIntrospection(config, tokens.access_token)).active, 'its grant went with it');
});

test('an opaque access token is refused by userinfo and introspection once revoked', async (t) => {
  const server = await startTestServer(t);
  const { config, tokens } = await signIn(server, 'revoked-token@example.com');
  t.is(await userinfoStatus(server, tokens.access_token), 200);
  t.true((await oidc.tokenIntrospection(config, tokens.access_token)).active);

  await oidc.tokenRevocation(config, tokens.access_token);
  t.is(await userinfoStatus(server, tokens.access_token), 401);
  t.false((await oidc.tokenIntrospection(config, tokens.access_token)).active);
});

test("an opaque access token is refused once its grant is revoked by a rotated refresh token's reuse", async (t) => {
  const server = await startTestServer(t);
  const { config, tokens } = await signIn(server, 'revoked-grant@example.com');
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  t.is(await userinfoStatus(server, refreshed.access_token), 200);

  // Reusing the rotated token after the grace window revokes the whole grant (Security BCP 4.14.2),
  // its access tokens included.
  server.clock.advance(11);
  await t.throwsAsync(oidc.refreshTokenGrant(config, tokens.refresh_token!));
  t.is(await userinfoStatus(server, refreshed.access_token), 401);
  t.is(await userinfoStatus(server, tokens.access_token), 401);
  t.false((await oidc.tokenIntrospection(config, refreshed.access_token)).active);
});

onRedis(
  'with Redis an opaque access token lives there for its lifetime and is refused once Redis expires it',
  async (t) => {
    const server = await startTestServer(t);
    const { tokens } = await signIn(server, 'expiring@example.com');
    const redisConfig = server.app.config.redis;
    if (!('url' in redisConfig)) throw new Error('REDIS_URL is set, so the server uses Redis');
    const redis = new Redis(redisConfig.url, { keyPrefix: redisConfig.prefix });
    t.teardown(() => redis.quit());
    const key = `oidc:AccessToken:${tokens.access_token}`;

    // Not a database row: the token is Redis's alone, with Redis's expiry set to the token's own.
    const rows = await server.app.services.db
      .selectFrom('oidc_payloads')
      .select('id')
      .where('model', '=', 'AccessToken')
      .execute();
    t.deepEqual(rows, []);
    const ttl = await redis.ttl(key);
    t.true(Math.abs(ttl - (tokens.expires_in ?? 0)) <= 2, `Redis keeps it for its lifetime (${ttl} s)`);
    t.is(await userinfoStatus(server, tokens.access_token), 200);

    // Its expiry brought forward to now, Redis drops the key as it would at the token's end.
    await redis.pexpire(key, 1);
    while ((await redis.exists(key)) === 1) await new Promise((resolve) => setImmediate(resolve));
    t.is(await userinfoStatus(server, tokens.access_token), 401);
  },
);
