import test, { type ExecutionContext } from 'ava';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { refreshCopyKey } from '../../src/oidc/adapter.ts';
import { createGrantRevocations, revokedGrantKey, revokedGrantSeconds } from '../../src/oidc/revoked-grants.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { refreshReuseOutcomes } from '../helpers/reuse-audits.ts';
import { startTestServer, type TestServer, twoInstances } from '../helpers/server.ts';
import { codeFlowWithOfflineAccess } from '../helpers/sign-in.ts';

// A refresh grant reads the token it presents from a copy in the key-value store (adapter.ts,
// RefreshCopyAdapter); Postgres's rotation statement alone decides whether it is still unused.
// Instances share state only through Postgres and Redis.
const shared = process.env.DATABASE_URL && process.env.REDIS_URL ? test : test.skip;

/** Signed in, then one refresh: `r1` is a rotation's successor, which has a copy. */
async function rotatedOnce(t: ExecutionContext, server?: TestServer) {
  const running = server ?? (await startTestServer(t));
  const { clientId, clientSecret } = await registerClient(running.app);
  const config = await discover(running.url, clientId, clientSecret);
  const tokens = await codeFlowWithOfflineAccess(running.url, config, 'copies@example.com');
  const first = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  return { server: running, config, r0: tokens.refresh_token!, r1: first.refresh_token!, first };
}

function tokenRow(server: TestServer, id: string) {
  return server.app.services.db
    .selectFrom('oidc_payloads')
    .select(['grant_id', 'consumed_at'])
    .where('model', '=', 'RefreshToken')
    .where('id', '=', id)
    .executeTakeFirst();
}

async function userinfoStatus(server: TestServer, accessToken: string) {
  const response = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  return response.status;
}

async function refusal(t: ExecutionContext, refresh: Promise<unknown>) {
  const error = (await t.throwsAsync(refresh)) as oidc.ResponseBodyError;
  t.is(error.error, 'invalid_grant');
}

/** Puts a copy back as a late write would (or one whose delete was lost): the worst a copy can be. */
async function plant(server: TestServer, id: string, value: string) {
  await server.app.services.kv.write([{ op: 'set', key: refreshCopyKey(id), value, ttlSeconds: 600 }]);
}

test('a refresh reads the presented token from its copy, written after the rotation, and takes it', async (t) => {
  const { server, config, r1 } = await rotatedOnce(t);
  const { kv } = server.app.services;
  const copy = await kv.get(refreshCopyKey(r1));
  t.truthy(copy, "the rotation's successor has a copy");
  t.like(await tokenRow(server, r1), { consumed_at: null }, 'of a committed row');
  const ttl = await kv.ttl(refreshCopyKey(r1));
  t.true(ttl <= revokedGrantSeconds(server.app.config.ttl.accessToken), `no longer than its grant's mark (${ttl} s)`);

  // The row now says another client: the lookup never reads it, the copy answers (and the rotation
  // statement, which looks at consumption only, rotates).
  await server.app.services.db
    .updateTable('oidc_payloads')
    .set({ payload: sql`jsonb_set(payload, '{clientId}', '"someone-else"')` })
    .where('model', '=', 'RefreshToken')
    .where('id', '=', r1)
    .execute();
  const second = await oidc.refreshTokenGrant(config, r1);
  t.is(await kv.get(refreshCopyKey(r1)), null, 'read once: the next presentation reads the row');
  t.truthy(await kv.get(refreshCopyKey(second.refresh_token!)));
  t.truthy((await tokenRow(server, r1))?.consumed_at);
});

test('a stale copy of a rotated token never lets it work again: its reuse revokes the grant', async (t) => {
  const { server, config, r1 } = await rotatedOnce(t);
  const stale = (await server.app.services.kv.get(refreshCopyKey(r1)))!;
  const second = await oidc.refreshTokenGrant(config, r1);
  t.is(await server.app.services.kv.get(refreshCopyKey(r1)), null);

  // The copy back though its row is consumed, and the grace window over: only Postgres can tell.
  await plant(server, r1, stale);
  server.clock.advance(11);
  await refusal(t, oidc.refreshTokenGrant(config, r1));
  t.falsy(await tokenRow(server, second.refresh_token!), "the grant's tokens are gone");
  await refusal(t, oidc.refreshTokenGrant(config, second.refresh_token!));
  t.is(await userinfoStatus(server, second.access_token), 401);
  t.deepEqual(await refreshReuseOutcomes(server), ['failure'], 'audited as a reuse, once');
});

test("a copy is refused once its grant's revocation has begun, though its row is still unused", async (t) => {
  const { server, config, r1 } = await rotatedOnce(t);
  const grantId = (await tokenRow(server, r1))!.grant_id!;
  // What a revocation writes first, before it deletes any token (grant-revoker.ts, GrantCopyAdapter).
  await createGrantRevocations(server.app.services.kv, server.app.config.ttl.accessToken).markRevoked(grantId);
  t.truthy(await server.app.services.kv.get(refreshCopyKey(r1)));

  await refusal(t, oidc.refreshTokenGrant(config, r1));
  t.like(await tokenRow(server, r1), { consumed_at: null }, 'nothing rotated');
});

test('a token revoked at the revocation endpoint loses its copy first, and a copy put back is refused', async (t) => {
  const { server, config, r1, first } = await rotatedOnce(t);
  const copy = (await server.app.services.kv.get(refreshCopyKey(r1)))!;
  await oidc.tokenRevocation(config, r1);
  t.is(await server.app.services.kv.get(refreshCopyKey(r1)), null);
  t.falsy(await tokenRow(server, r1));

  await plant(server, r1, copy);
  await refusal(t, oidc.refreshTokenGrant(config, r1));
  t.is(await userinfoStatus(server, first.access_token), 401);
});

test("no copy is written once its grant's revocation mark is there", async (t) => {
  const server = await startTestServer(t);
  const { kv } = server.app.services;
  const write = { op: 'setUnlessGuarded', key: refreshCopyKey('r'), value: '{}', ttlSeconds: 60 } as const;
  await createGrantRevocations(kv, server.app.config.ttl.accessToken).markRevoked('g');
  await kv.write([{ ...write, guard: revokedGrantKey('g') }]);
  t.is(await kv.get(refreshCopyKey('r')), null);
  await kv.write([{ ...write, guard: revokedGrantKey('another') }]);
  t.is(await kv.get(refreshCopyKey('r')), '{}');
});

test('a copy past its token’s end is not used: the row answers', async (t) => {
  const { server, config, r1, first } = await rotatedOnce(t);
  const copy = (await server.app.services.kv.get(refreshCopyKey(r1)))!;
  // As when the token's time ran out before the store's expiry cleared the copy, and the row was swept.
  await plant(server, r1, copy.replace(/^\d+ /, `${Date.now() - 1000} `));
  await server.app.services.db
    .deleteFrom('oidc_payloads')
    .where('model', '=', 'RefreshToken')
    .where('id', '=', r1)
    .execute();

  await refusal(t, oidc.refreshTokenGrant(config, r1));
  t.is(await userinfoStatus(server, first.access_token), 200, 'an expired token revokes nothing');
});

test('when the store fails to hand the copy over, the row is read and the copy deleted before the rotation', async (t) => {
  const { server, config, r1 } = await rotatedOnce(t);
  const { kv } = server.app.services;
  const take = kv.take;
  kv.take = async () => {
    throw new Error('the key-value store is unreachable');
  };
  t.teardown(() => {
    kv.take = take;
  });

  const second = await oidc.refreshTokenGrant(config, r1);
  t.truthy((await tokenRow(server, r1))?.consumed_at);
  t.is(await kv.get(refreshCopyKey(r1)), null);
  server.clock.advance(11);
  await refusal(t, oidc.refreshTokenGrant(config, r1));
  await refusal(t, oidc.refreshTokenGrant(config, second.refresh_token!));
});

shared('a copy written by one instance is read by the other, and a reuse on either revokes the grant', async (t) => {
  const { a, b, clock } = await twoInstances(t);
  const { config, r1 } = await rotatedOnce(t, a);
  const onB = await discover(a.url, config.clientMetadata().client_id, config.clientMetadata().client_secret as string);
  onB[oidc.customFetch] = (url, init) => fetch(url.replace(a.url, b.url), init as RequestInit);

  const second = await oidc.refreshTokenGrant(onB, r1);
  t.is(await b.app.services.kv.get(refreshCopyKey(r1)), null, "b took a's copy");
  t.truthy(await a.app.services.kv.get(refreshCopyKey(second.refresh_token!)), "a sees b's copy");
  const third = await oidc.refreshTokenGrant(config, second.refresh_token!);

  clock.advance(11);
  await refusal(t, oidc.refreshTokenGrant(onB, second.refresh_token!));
  await refusal(t, oidc.refreshTokenGrant(config, third.refresh_token!));
  t.is(await userinfoStatus(b, third.access_token), 401);
});
