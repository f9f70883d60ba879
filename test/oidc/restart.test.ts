import test from 'ava';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oidc from 'openid-client';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { persistedServers, type TestServer } from '../helpers/server.ts';
import { codeFlowWithOfflineAccess } from '../helpers/sign-in.ts';

// The same file runs on both storage set-ups; the title says which one this run exercised.
const storage = process.env.DATABASE_URL ? 'Postgres' : 'embedded PGlite in a data folder';
const sessions = process.env.REDIS_URL ? 'Redis' : 'in-process memory';

/** A full authorization code flow in a new browser (no session cookie), with offline access. */
async function signIn(server: TestServer, clientId: string, clientSecret: string | undefined, email: string) {
  const config = await discover(server.url, clientId, clientSecret);
  return { config, tokens: await codeFlowWithOfflineAccess(server.url, config, email) };
}

async function fetchJwks(config: oidc.Configuration): Promise<JSONWebKeySet> {
  const response = await fetch(config.serverMetadata().jwks_uri!);
  return (await response.json()) as JSONWebKeySet;
}

test(`the same flow after a server restart (storage: ${storage}; sessions: ${sessions})`, async (t) => {
  const servers = await persistedServers(t);

  // First run: a client, a person, their tokens.
  const first = await servers.start();
  const { clientId, clientSecret } = await registerClient(first.app);
  const before = await signIn(first, clientId, clientSecret, 'restart@example.com');
  const sub = before.tokens.claims()!.sub;
  t.truthy(before.tokens.refresh_token, 'offline_access gave a refresh token');
  const profileBefore = await oidc.fetchUserInfo(before.config, before.tokens.access_token, sub);
  const jwksBefore = await fetchJwks(before.config);

  await servers.stop();
  // Nothing answers any more, so whatever works below is served by the second process alone.
  await t.throwsAsync(fetch(`${first.url}/.well-known/openid-configuration`));

  // Second run on the same database and the same port, hence the same issuer.
  const second = await servers.start({}, { port: Number(new URL(first.url).port) });
  t.is(second.url, first.url);
  const config = await discover(second.url, clientId, clientSecret);
  t.is(config.serverMetadata().issuer, before.config.serverMetadata().issuer);

  // The signing keys survived: the same public keys are published, and the ID token issued before
  // the restart still verifies against them.
  const jwksAfter = await fetchJwks(config);
  t.deepEqual(jwksAfter, jwksBefore);
  t.true(jwksAfter.keys.length > 0);
  const { payload } = await jwtVerify(before.tokens.id_token!, createLocalJWKSet(jwksAfter), {
    issuer: second.url,
    audience: clientId,
  });
  t.is(payload.sub, sub);

  // The opaque access token from before the restart is still accepted by userinfo.
  const profileWithOldToken = await oidc.fetchUserInfo(config, before.tokens.access_token, sub);
  t.is(profileWithOldToken.email, 'restart@example.com');

  // The refresh token from before the restart still refreshes: grants are stored in the database
  // (not in Redis or process memory), as the rows show.
  const stored = await second.app.services.db
    .selectFrom('oidc_payloads')
    .select(['model', 'grant_id'])
    .where('model', '=', 'RefreshToken')
    .where('id', '=', before.tokens.refresh_token!)
    .executeTakeFirst();
  t.truthy(stored?.grant_id, 'the refresh token is a database row');
  const grant = await second.app.services.db
    .selectFrom('oidc_payloads')
    .select('id')
    .where('model', '=', 'Grant')
    .where('id', '=', stored?.grant_id ?? '')
    .executeTakeFirst();
  t.truthy(grant, 'its grant is a database row');
  const refreshed = await oidc.refreshTokenGrant(config, before.tokens.refresh_token!);
  t.is(refreshed.claims()!.sub, sub);
  t.truthy(refreshed.refresh_token);
  t.not(refreshed.refresh_token, before.tokens.refresh_token);
  const profileRefreshed = await oidc.fetchUserInfo(config, refreshed.access_token, sub);
  t.is(profileRefreshed.preferred_username, profileBefore.preferred_username);

  // The account and the client survived: a new browser signs in (a new emailed code) to the same sub
  // and fairyname, and the client authenticates with the secret it was given on the first run.
  const after = await signIn(second, clientId, clientSecret, 'restart@example.com');
  t.is(after.tokens.claims()!.sub, sub);
  const profileAfter = await oidc.fetchUserInfo(after.config, after.tokens.access_token, sub);
  t.is(profileAfter.preferred_username, profileBefore.preferred_username);
  // And the keys that signed before the restart are the ones signing after it.
  t.is(decodeProtectedHeader(after.tokens.id_token!).kid, decodeProtectedHeader(before.tokens.id_token!).kid);
});
