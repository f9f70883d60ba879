import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oidc from 'openid-client';
import { discover, pkcePair, registerClient, RP_REDIRECT } from '../helpers/relying-party.ts';
import { persistedServers, startTestServer, type TestServer } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';

const SECRET_A = 'first-keys-secret-0123456789abcdefghijklmnop';
const SECRET_B = 'other-keys-secret-0123456789abcdefghijklmnop';

async function fetchJwks(server: TestServer): Promise<JSONWebKeySet> {
  const discovery = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as {
    jwks_uri: string;
  };
  return (await (await fetch(discovery.jwks_uri)).json()) as JSONWebKeySet;
}

const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid;
const sorted = (values: string[]) => [...values].sort();
const kids = (jwks: JSONWebKeySet) => jwks.keys.map((key) => key.kid!);
/** The key oidc-provider signs with for `alg`: the first published key of that algorithm. */
const signingKid = (jwks: JSONWebKeySet, alg: string) => jwks.keys.find((key) => key.alg === alg)?.kid;

/** A machine client: client_credentials for our API, which answers with RFC 9068 JWT access tokens. */
async function machineClient(server: TestServer) {
  const { clientId, clientSecret } = await registerClient(server.app, {
    name: 'Machine',
    redirectUris: [],
    postLogoutRedirectUris: [],
    grantTypes: ['client_credentials'],
    scope: 'account:read',
  });
  const config = await discover(server.url, clientId, clientSecret);
  return async () => {
    const { access_token } = await oidc.clientCredentialsGrant(config, { scope: 'account:read' });
    return access_token;
  };
}

/** Signs a person in and returns their ID token plus a way to get a freshly signed one (refresh). */
async function personClient(server: TestServer) {
  const { clientId, clientSecret } = await registerClient(server.app);
  const config = await discover(server.url, clientId, clientSecret);
  const { verifier, challenge } = await pkcePair();
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid offline_access',
    prompt: 'consent',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const { url } = await signInThroughPages(server.url, authorizationUrl.href, 'keys@example.com');
  const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier });
  let refreshToken = tokens.refresh_token!;
  return {
    clientId,
    idToken: tokens.id_token!,
    async newIdToken() {
      const refreshed = await oidc.refreshTokenGrant(config, refreshToken);
      refreshToken = refreshed.refresh_token!;
      return refreshed.id_token!;
    },
  };
}

test('after a rotation old tokens still verify and new ones use the new keys; retiring unpublishes the old keys', async (t) => {
  const server = await startTestServer(t);
  const accessToken = await machineClient(server);
  const person = await personClient(server);
  const verify = (jwt: string, jwks: JSONWebKeySet) => jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: server.url });

  const oldAccessToken = await accessToken();
  const oldIdToken = person.idToken;
  t.is(decodeProtectedHeader(oldAccessToken).typ, 'at+jwt');
  t.is(decodeProtectedHeader(oldAccessToken).alg, 'ES256');
  t.is(decodeProtectedHeader(oldIdToken).alg, 'RS256');
  const before = await fetchJwks(server);
  await verify(oldAccessToken, before);
  await verify(oldIdToken, before);
  const oldKids = kids(before);
  t.is(oldKids.length, 3, 'one key per algorithm to begin with');
  t.truthy(kidOf(oldAccessToken));
  t.truthy(kidOf(oldIdToken));
  t.is(kidOf(oldAccessToken), signingKid(before, 'ES256'));
  t.is(kidOf(oldIdToken), signingKid(before, 'RS256'));

  // What `npm run cli -- keys rotate` runs, then what every instance's poll runs.
  const newKids = await server.app.services.keys.rotate();
  t.is(newKids.length, 3, 'one new key per algorithm');
  t.true(await server.app.provider.refreshKeys());

  const rotated = await fetchJwks(server);
  t.deepEqual(sorted(kids(rotated)), sorted([...oldKids, ...newKids]), 'old and new keys are published together');
  for (const alg of ['RS256', 'ES256', 'EdDSA']) {
    const kid = signingKid(rotated, alg);
    t.true(newKids.includes(kid!), `the newest ${alg} key comes first`);
  }
  // Tokens signed before the rotation still verify against what is published now.
  await t.notThrowsAsync(verify(oldAccessToken, rotated));
  await t.notThrowsAsync(verify(oldIdToken, rotated));

  const newAccessToken = await accessToken();
  const newIdToken = await person.newIdToken();
  t.not(kidOf(newAccessToken), kidOf(oldAccessToken));
  t.not(kidOf(newIdToken), kidOf(oldIdToken));
  t.is(kidOf(newAccessToken), signingKid(rotated, 'ES256'));
  t.is(kidOf(newIdToken), signingKid(rotated, 'RS256'));
  await t.notThrowsAsync(verify(newAccessToken, rotated));
  await t.notThrowsAsync(verify(newIdToken, rotated));

  // `keys retire`: the superseded keys leave the JWKS, and what they signed stops verifying.
  const retired = await server.app.services.keys.retire();
  t.deepEqual(sorted(retired), sorted(oldKids));
  t.true(await server.app.provider.refreshKeys());
  const after = await fetchJwks(server);
  t.deepEqual(sorted(kids(after)), sorted(newKids));
  await t.throwsAsync(verify(oldAccessToken, after), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
  await t.throwsAsync(verify(oldIdToken, after), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
  await t.notThrowsAsync(verify(newAccessToken, after));
  await t.notThrowsAsync(verify(newIdToken, after));
  const latestAccessToken = await accessToken();
  t.is(kidOf(latestAccessToken), kidOf(newAccessToken));
  await t.notThrowsAsync(verify(latestAccessToken, after));
  await t.notThrowsAsync(verify(await person.newIdToken(), after));
});

test('a running instance picks up a rotation on its own by polling', async (t) => {
  const server = await startTestServer(t, { env: { KEYS_REFRESH_SECONDS: '1' } });
  const accessToken = await machineClient(server);
  const oldAccessToken = await accessToken();
  const before = await fetchJwks(server);

  // Rotated behind the server's back, as the CLI or another instance would: nobody calls refreshKeys().
  const newKids = await server.app.services.keys.rotate();
  let published = kids(before);
  for (let attempt = 0; attempt < 300 && !newKids.every((kid) => published.includes(kid)); attempt += 1) {
    await sleep(200);
    published = kids(await fetchJwks(server));
  }
  t.true(
    newKids.every((kid) => published.includes(kid)),
    'the JWKS gained the new keys',
  );
  t.false(await server.app.provider.refreshKeys(), 'the poll had already rebuilt the provider');

  const newAccessToken = await accessToken();
  t.true(newKids.includes(kidOf(newAccessToken)!));
  t.not(kidOf(newAccessToken), kidOf(oldAccessToken));
  const jwks = createLocalJWKSet(await fetchJwks(server));
  await t.notThrowsAsync(jwtVerify(oldAccessToken, jwks, { issuer: server.url }));
  await t.notThrowsAsync(jwtVerify(newAccessToken, jwks, { issuer: server.url }));
});

test('signing keys are encrypted at rest and only public keys are published', async (t) => {
  const server = await startTestServer(t);
  const privateJwks = await server.app.services.keys.loadPublished();
  const rows = await server.app.services.db.selectFrom('signing_keys').select(['kid', 'encrypted_jwk']).execute();
  t.is(rows.length, privateJwks.length);
  t.true(rows.length >= 3);
  for (const jwk of privateJwks) {
    const row = rows.find((candidate) => candidate.kid === jwk.kid);
    t.truthy(jwk.d, `${jwk.kid} has a private part`);
    t.truthy(row, `${jwk.kid} is stored`);
    t.false(row!.encrypted_jwk.includes(jwk.d!), `${jwk.kid}: the private key is not stored in clear`);
    t.false(row!.encrypted_jwk.includes('"d"'), `${jwk.kid}: the stored value is not the JWK as JSON`);
    t.false(
      row!.encrypted_jwk.includes(Buffer.from(JSON.stringify(jwk)).toString('base64url').slice(0, 32)),
      `${jwk.kid}: the stored value is not merely base64-encoded`,
    );
  }
  for (const key of (await fetchJwks(server)).keys) {
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi'])
      t.false(member in key, `${key.kid} publishes no "${member}"`);
  }
});

test('a server with a different KEYS_SECRET refuses to start on the same database, naming KEYS_SECRET', async (t) => {
  const servers = await persistedServers(t);
  const jwks = await fetchJwks(await servers.start({ KEYS_SECRET: SECRET_A }));

  // (Were it to start anyway, it is stopped again so that the failure is reported, not a hang.)
  const error = await t.throwsAsync(servers.start({ KEYS_SECRET: SECRET_B }).then(() => servers.stop()));
  t.regex(error?.message ?? '', /KEYS_SECRET/);

  // The failed start changed nothing: the right secret still opens the same keys.
  t.deepEqual(await fetchJwks(await servers.start({ KEYS_SECRET: SECRET_A })), jwks);
});
