import test from 'ava';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { CLAIMS_CACHE_SECONDS } from '../../src/accounts/account.service.ts';
import type { KeyValueStore } from '../../src/db/key-value.ts';
import { createAdapterFactory } from '../../src/oidc/adapter.ts';
import { createGrantRevocations, revokedGrantKey } from '../../src/oidc/revoked-grants.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { refreshReuseOutcomes } from '../helpers/reuse-audits.ts';
import { startTestServer, type TestServer, twoInstances } from '../helpers/server.ts';
import { codeFlowWithOfflineAccess } from '../helpers/sign-in.ts';

const onRedis = process.env.REDIS_URL ? test : test.skip;
// Instances share state only through Postgres and Redis.
const shared = process.env.DATABASE_URL && process.env.REDIS_URL ? test : test.skip;

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

async function grantOf(server: TestServer, refreshToken: string) {
  const row = await server.app.services.db
    .selectFrom('oidc_payloads')
    .select('grant_id')
    .where('model', '=', 'RefreshToken')
    .where('id', '=', refreshToken)
    .executeTakeFirstOrThrow();
  return row.grant_id!;
}

const grantCopy = (grantId: string) => `oidc:Grant:${grantId}`;

function grantRow(server: TestServer, grantId: string) {
  return server.app.services.db
    .selectFrom('oidc_payloads')
    .select('id')
    .where('model', '=', 'Grant')
    .where('id', '=', grantId)
    .executeTakeFirst();
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

// Two connections racing for one row need a real Postgres; the embedded one has a single connection.
const onPostgres = process.env.DATABASE_URL ? test : test.skip;

onPostgres(
  'a rotation racing another rotation of the same refresh token loses, and the grant is revoked',
  async (t) => {
    const server = await startTestServer(t);
    const { config, tokens } = await signIn(server, 'rotation-race@example.com');
    const { db } = server.app.services;
    const grantId = await grantOf(server, tokens.refresh_token!);
    const presented = tokens.refresh_token!;

    // Another rotation of the same token holds its row, consumed but not yet committed, while this refresh
    // reads it (still unconsumed for everyone else) and reaches its own rotation, which waits for the row.
    // Handed out in a box: returning the promise itself would hold the commit until it settled.
    const { answer } = await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('oidc_payloads')
        .set({ consumed_at: new Date() })
        .where('model', '=', 'RefreshToken')
        .where('id', '=', presented)
        .execute();
      const answer = oidc.refreshTokenGrant(config, presented).then(
        () => 'answered with tokens',
        (error: oidc.ResponseBodyError) => error.error,
      );
      for (;;) {
        const { rows } = await sql<{ waiting: number }>`
        select count(*)::int as waiting from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
        if (rows[0]!.waiting > 0) break;
      }
      return { answer };
    });

    t.is(await answer, 'invalid_grant', 'the token was used twice: one rotation only may issue a successor');
    const left = await db
      .selectFrom('oidc_payloads')
      .select(['model', 'consumed_at'])
      .where('grant_id', '=', grantId)
      .execute();
    t.deepEqual(left, [], "no successor was stored, and the grant's tokens are gone");
    t.is(await grantRow(server, grantId), undefined, 'the grant is revoked');
    t.is(await userinfoStatus(server, tokens.access_token), 401);
    t.deepEqual(await refreshReuseOutcomes(server), ['failure'], 'audited as a reuse');
  },
);

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

test('a grant is read from its copy in the key-value store, and from Postgres when the copy is missing', async (t) => {
  const server = await startTestServer(t);
  const { kv } = server.app.services;
  const { tokens } = await signIn(server, 'grant-copy@example.com');
  const grantId = await grantOf(server, tokens.refresh_token!);

  // The consent's save wrote the copy, for no longer than an access token lives (its mark outlives it).
  t.truthy(await kv.get(grantCopy(grantId)));
  t.true((await kv.ttl(grantCopy(grantId))) <= server.app.config.ttl.accessToken);

  // A missing copy (expired, or never written) is read from the row and put back.
  await kv.del(grantCopy(grantId));
  t.is(await userinfoStatus(server, tokens.access_token), 200);
  t.truthy(await kv.get(grantCopy(grantId)));

  // With the copy there, the lookup asks Postgres nothing: the row's removal goes unseen.
  await server.app.services.db
    .deleteFrom('oidc_payloads')
    .where('model', '=', 'Grant')
    .where('id', '=', grantId)
    .execute();
  t.is(await userinfoStatus(server, tokens.access_token), 200);
});

test("a grant's revocation mark refuses it at once, though its copy and its row are still there", async (t) => {
  const server = await startTestServer(t);
  const { config, tokens } = await signIn(server, 'grant-marked@example.com');
  const grantId = await grantOf(server, tokens.refresh_token!);
  t.is(await userinfoStatus(server, tokens.access_token), 200);

  // What another instance's revocation writes first, before it deletes anything.
  await createGrantRevocations(server.app.services.kv, server.app.config.ttl.accessToken).markRevoked(grantId);
  t.truthy(await server.app.services.kv.get(grantCopy(grantId)));
  t.truthy(await grantRow(server, grantId));
  t.is(await userinfoStatus(server, tokens.access_token), 401);
  t.false((await oidc.tokenIntrospection(config, tokens.access_token)).active);
  const refused = await t.throwsAsync(oidc.refreshTokenGrant(config, tokens.refresh_token!));
  t.is((refused as { error?: string }).error, 'invalid_grant');
});

test('a save of a grant that lost the race to its revocation writes no copy, and the grant stays refused', async (t) => {
  const server = await startTestServer(t);
  const { config, tokens } = await signIn(server, 'grant-race@example.com');
  const grantId = await grantOf(server, tokens.refresh_token!);
  const Grant = server.app.provider.current().Grant;
  // Loaded before the revocation, as a consent page in flight would have it.
  const loaded = await Grant.adapter.find(grantId);
  t.truthy(loaded);

  await oidc.tokenRevocation(config, tokens.refresh_token!);
  t.is(await server.app.services.kv.get(grantCopy(grantId)), null);
  t.falsy(await grantRow(server, grantId));

  // The late save puts the row back (Postgres has no memory of the revocation), but no copy.
  await Grant.adapter.upsert(grantId, loaded!, 3600);
  t.truthy(await grantRow(server, grantId));
  t.is(await server.app.services.kv.get(grantCopy(grantId)), null);
  t.is(await Grant.find(grantId), undefined);
  t.is(await server.app.services.kv.get(grantCopy(grantId)), null, 'nor does the lookup that refused it');
});

test('a grant revocation whose mark cannot be written fails before anything is deleted', async (t) => {
  const server = await startTestServer(t);
  const { services, config } = server.app;
  const { tokens } = await signIn(server, 'grant-unmarked@example.com');
  const grantId = await grantOf(server, tokens.refresh_token!);
  // The store as it is, but for its writes, which fail as they would with Redis out of reach.
  const unreachable = new Proxy(services.kv, {
    get(target, property) {
      if (property === 'write')
        return async () => {
          throw new Error('the key-value store is unreachable');
        };
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) satisfies KeyValueStore;
  const adapter = createAdapterFactory({
    db: services.db,
    kv: unreachable,
    clients: services.clientRepository,
    sharedKeyValue: false,
    grantCopies: { accessTokenTtl: config.ttl.accessToken },
  })('Grant');

  await t.throwsAsync(adapter.destroy(grantId), { message: /unreachable/ });
  // Nothing claims a revocation that did not happen: the grant is still live everywhere.
  t.truthy(await grantRow(server, grantId));
  t.is(await services.kv.get(revokedGrantKey(grantId)), null);
  t.truthy(await services.kv.get(grantCopy(grantId)));
  t.is(await userinfoStatus(server, tokens.access_token), 200);
});

shared('a grant revoked through one instance is refused at once by the other, which had read it', async (t) => {
  const { a, b } = await twoInstances(t);
  const { clientId, clientSecret } = await registerClient(a.app);
  const config = await discover(a.url, clientId, clientSecret);
  const tokens = await codeFlowWithOfflineAccess(a.url, config, 'two-instances@example.com');
  // The same client, its requests sent to b: the balancer chose the other backend.
  const onB = await discover(a.url, clientId, clientSecret);
  onB[oidc.customFetch] = (url, init) => fetch(url.replace(a.url, b.url), init as RequestInit);

  const grantId = await grantOf(a, tokens.refresh_token!);
  const refreshed = await oidc.refreshTokenGrant(onB, tokens.refresh_token!);
  t.is(await userinfoStatus(b, refreshed.access_token), 200);
  t.true((await oidc.tokenIntrospection(onB, refreshed.access_token)).active);

  await oidc.tokenRevocation(config, refreshed.refresh_token!);
  t.is(await userinfoStatus(b, refreshed.access_token), 401);
  t.false((await oidc.tokenIntrospection(onB, refreshed.access_token)).active);
  await t.throwsAsync(oidc.refreshTokenGrant(onB, refreshed.refresh_token!));
  t.is(await b.app.provider.current().Grant.find(grantId), undefined);
});
