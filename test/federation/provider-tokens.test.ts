import type { ExecutionContext } from 'ava';
import test from 'ava';
import * as oidc from 'openid-client';
import { callApi, apiToken } from '../helpers/api.ts';
import { authorize, land, submit } from '../helpers/authorization.ts';
import { testClock } from '../helpers/clock.ts';
import { startGitHubStandIn } from '../helpers/github-stand-in.ts';
import { latestCode } from '../helpers/outbox.ts';
import { PageClient } from '../helpers/page-client.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer, twoInstances } from '../helpers/server.ts';
import { continueWith, startUpstream, type UpstreamPerson } from '../helpers/upstream-provider.ts';

const SECRET = 'acme-client-secret-for-fairyid';
// A host no other test's upstream uses.
const ACME_HOST = '127.0.0.20';
const upstreamEnv = (issuer: string) => ({
  FEDERATION_PROVIDERS: 'acme',
  FEDERATION_ACME_ISSUER: issuer,
  FEDERATION_ACME_CLIENT_ID: 'fairyid-at-acme',
  FEDERATION_ACME_CLIENT_SECRET: SECRET,
  FEDERATION_ACME_NAME: 'Acme SSO',
  // Sign-ins ask Acme for a refresh token (offline_access with prompt=consent).
  FEDERATION_ACME_OFFLINE_ACCESS: 'true',
});

type Upstream = Awaited<ReturnType<typeof startUpstream>>;
type Setup = { server: TestServer; acme: Upstream; config: oidc.Configuration };

/** FairyID with one generic OpenID provider (a real oidc-provider) that issues refresh tokens, and an app. */
async function setUp(t: ExecutionContext): Promise<Setup> {
  const acme = await startUpstream(t, ACME_HOST);
  const server = await startTestServer(t, { env: upstreamEnv(acme.issuer) });
  return { server, acme, config: await connect(server, acme) };
}

async function connect(server: TestServer, acme: Upstream) {
  await acme.register({
    clientId: 'fairyid-at-acme',
    clientSecret: SECRET,
    redirectUri: `${server.url}/federation/acme/callback`,
  });
  const { clientId, clientSecret } = await registerClient(server.app);
  return discover(server.url, clientId, clientSecret);
}

/** `person` signs in to the app with "Continue with Acme SSO" and allows `scope`; the app's API token. */
async function appTokenVia({ server, acme, config }: Setup, person: UpstreamPerson, scope = 'openid provider_tokens') {
  acme.state.person = person;
  const resource = `${server.url}/api`;
  const signIn = await authorize(server, config, { scope, resource });
  const consent = await continueWith(signIn.client, signIn, 'acme');
  const done = consent.url.pathname.startsWith('/interaction/')
    ? (await submit(signIn.client, consent, '/confirm')).url
    : consent.url;
  const tokens = await oidc.authorizationCodeGrant(config, done, signIn.check, { resource });
  return tokens.access_token;
}

const providerToken = (server: TestServer, token: string) => callApi(server, token, 'GET', '/api/provider-token/acme');

/** Whom the upstream says `accessToken` belongs to (its userinfo), or its refusal status. */
async function upstreamSubject(acme: Upstream, accessToken: string) {
  const response = await fetch(`${acme.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  return response.ok ? String(((await response.json()) as { sub: string }).sub) : response.status;
}

const ADA: UpstreamPerson = { sub: 'acme-ada', email: 'ada@acme.example', email_verified: true, name: 'Ada' };
const BOB: UpstreamPerson = { sub: 'acme-bob', email: 'bob@acme.example', email_verified: true, name: 'Bob' };

test('an app allowed provider_tokens gets the upstream token, and a refreshed one once the kept one expired', async (t) => {
  const setup = await setUp(t);
  const { server, acme } = setup;
  const app = await appTokenVia(setup, ADA);

  const first = await providerToken(server, app);
  t.is(first.status, 200, JSON.stringify(first.body));
  t.is(first.body?.provider, 'acme');
  t.is(first.body?.token_type, 'Bearer');
  t.true(first.body?.scopes.includes('offline_access'));
  t.is(await upstreamSubject(acme, first.body?.access_token), 'acme-ada');
  t.is(acme.state.refreshRequests, 0);
  // Asked again before it nears its expiry: the same token, no refresh.
  t.is((await providerToken(server, app)).body?.access_token, first.body?.access_token);

  // At rest neither token is readable: the row holds sealed values only.
  const row = await server.app.services.db.selectFrom('provider_tokens').selectAll().executeTakeFirstOrThrow();
  t.false(JSON.stringify(row).includes(first.body?.access_token));
  t.truthy(row.refresh_token_sealed);
  t.is(row.access_token_sealed.split('.').length, 3);

  // An hour later (the upstream's access tokens live an hour) the kept token has expired.
  server.clock.advance(3600);
  const second = await providerToken(server, app);
  t.is(second.status, 200, JSON.stringify(second.body));
  t.not(second.body?.access_token, first.body?.access_token);
  t.is(acme.state.refreshRequests, 1);
  t.is(await upstreamSubject(acme, second.body?.access_token), 'acme-ada');
  t.true(Date.parse(second.body?.expires_at) > server.clock.now() + 3000_000);
  // The refreshed token is served from then on, without another refresh.
  t.is((await providerToken(server, app)).body?.access_token, second.body?.access_token);
  t.is(acme.state.refreshRequests, 1);
  const after = await server.app.services.db.selectFrom('provider_tokens').selectAll().executeTakeFirstOrThrow();
  t.false(JSON.stringify(after).includes(second.body?.access_token));
});

test("another person's provider token never comes back, not even with sealed values copied onto their row", async (t) => {
  const setup = await setUp(t);
  const { server, acme } = setup;
  const ada = await appTokenVia(setup, ADA);
  const bob = await appTokenVia(setup, BOB);

  const adas = await providerToken(server, ada);
  const bobs = await providerToken(server, bob);
  t.is(await upstreamSubject(acme, adas.body?.access_token), 'acme-ada');
  t.is(await upstreamSubject(acme, bobs.body?.access_token), 'acme-bob');

  // Someone who never linked Acme gets no one's Acme token.
  const cy = await apiToken(server, 'cy@example.com', ['provider_tokens']);
  const none = await providerToken(server, cy);
  t.is(none.status, 404);
  t.is(none.body?.error, 'provider_not_linked');

  // A database write that puts Ada's sealed tokens on Bob's row: they are bound to Ada's identity and do not open there.
  const { db } = server.app.services;
  const adaRow = await db
    .selectFrom('provider_tokens')
    .innerJoin('linked_identities', 'linked_identities.id', 'provider_tokens.linked_identity_id')
    .select(['provider_tokens.access_token_sealed', 'provider_tokens.refresh_token_sealed'])
    .where('linked_identities.subject', '=', 'acme-ada')
    .executeTakeFirstOrThrow();
  const bobIdentity = await db
    .selectFrom('linked_identities')
    .select('id')
    .where('subject', '=', 'acme-bob')
    .executeTakeFirstOrThrow();
  await db
    .updateTable('provider_tokens')
    .set({ access_token_sealed: adaRow.access_token_sealed, refresh_token_sealed: adaRow.refresh_token_sealed })
    .where('linked_identity_id', '=', bobIdentity.id)
    .execute();
  const swapped = await providerToken(server, bob);
  t.is(swapped.status, 404);
  t.is(swapped.body?.error, 'provider_token_missing');
  t.false(JSON.stringify(swapped.body).includes(adas.body?.access_token));

  // Unlinking an identity takes its tokens with it.
  await db.deleteFrom('linked_identities').where('id', '=', bobIdentity.id).execute();
  t.is(
    await db
      .selectFrom('provider_tokens')
      .select('linked_identity_id')
      .where('linked_identity_id', '=', bobIdentity.id)
      .executeTakeFirst(),
    undefined,
  );
  t.is((await providerToken(server, bob)).body?.error, 'provider_not_linked');

  // An unknown provider is refused in the one JSON error shape.
  const unknown = await callApi(server, ada, 'GET', '/api/provider-token/nowhere');
  t.is(unknown.status, 404);
  t.is(unknown.body?.error, 'provider_not_found');
});

test('linking by an emailed code keeps the upstream tokens, sealed while the code is awaited', async (t) => {
  const acme = await startUpstream(t, '127.0.0.30');
  const server = await startTestServer(t, { env: upstreamEnv(acme.issuer) });
  const config = await connect(server, acme);
  const { account } = await server.app.services.accounts.signInWithVerifiedEmail('lin@example.com');
  // Acme is not trusted for addresses: a verified one that an account has must prove that account first.
  acme.state.person = { sub: 'acme-lin', email: 'lin@example.com', email_verified: true, name: 'Lin' };
  const resource = `${server.url}/api`;
  const signIn = await authorize(server, config, { scope: 'openid provider_tokens', resource });
  const proof = await continueWith(signIn.client, signIn, 'acme');
  t.regex(proof.url.pathname, /\/federation\/link$/);

  // While the code is awaited the pending link holds the tokens sealed: nothing in the store reads as one.
  const uid = proof.url.pathname.split('/')[2];
  const held = await server.app.services.kv.get(`federation:link:${uid}`);
  t.truthy(held);
  const pending = JSON.parse(held ?? '{}') as Record<string, unknown>;
  t.is(typeof pending.tokensSealed, 'string');
  t.false('tokens' in pending);

  const consent = await submit(signIn.client, proof, '/federation/link', {
    code: await latestCode(server.url, 'lin@example.com'),
  });
  const done = consent.url.pathname.startsWith('/interaction/')
    ? (await submit(signIn.client, consent, '/confirm')).url
    : consent.url;
  const tokens = await oidc.authorizationCodeGrant(config, done, signIn.check, { resource });
  t.is(tokens.claims()?.sub, account.id);

  // The link has Acme's token at once, as after a direct sign-in: no second sign-in with Acme needed.
  const served = await providerToken(server, tokens.access_token);
  t.is(served.status, 200, JSON.stringify(served.body));
  t.is(await upstreamSubject(acme, served.body?.access_token), 'acme-lin');
  t.truthy(served.body?.scopes.includes('offline_access'));
  t.false(held?.includes(served.body?.access_token));
  const row = await server.app.services.db.selectFrom('provider_tokens').selectAll().executeTakeFirstOrThrow();
  t.is(row.account_id, account.id);
  t.truthy(row.refresh_token_sealed);
});

test("a pending link's sealed tokens copied into another sign-in's pending link do not open there", async (t) => {
  const acme = await startUpstream(t, '127.0.0.31');
  const server = await startTestServer(t, { env: upstreamEnv(acme.issuer) });
  const config = await connect(server, acme);
  await server.app.services.accounts.signInWithVerifiedEmail('lin@example.com');
  await server.app.services.accounts.signInWithVerifiedEmail('max@example.com');
  const { kv } = server.app.services;
  const resource = `${server.url}/api`;
  const proofFor = async (person: UpstreamPerson) => {
    acme.state.person = person;
    const signIn = await authorize(server, config, { scope: 'openid provider_tokens', resource });
    const proof = await continueWith(signIn.client, signIn, 'acme');
    return { signIn, proof, key: `federation:link:${proof.url.pathname.split('/')[2]}` };
  };
  const lin = await proofFor({ sub: 'acme-lin', email: 'lin@example.com', email_verified: true });
  const max = await proofFor({ sub: 'acme-max', email: 'max@example.com', email_verified: true });

  // Someone able to write the store puts Lin's sealed tokens into Max's pending link.
  const linHeld = JSON.parse((await kv.get(lin.key)) ?? '{}') as { tokensSealed: string };
  const maxHeld = JSON.parse((await kv.get(max.key)) ?? '{}') as Record<string, unknown>;
  await kv.write([
    {
      op: 'set',
      key: max.key,
      value: JSON.stringify({ ...maxHeld, tokensSealed: linHeld.tokensSealed }),
      ttlSeconds: 600,
    },
  ]);
  const consent = await submit(max.signIn.client, max.proof, '/federation/link', {
    code: await latestCode(server.url, 'max@example.com'),
  });
  const done = consent.url.pathname.startsWith('/interaction/')
    ? (await submit(max.signIn.client, consent, '/confirm')).url
    : consent.url;
  const tokens = await oidc.authorizationCodeGrant(config, done, max.signIn.check, { resource });
  // Max is linked and signed in, but holds no token: least of all Lin's.
  const served = await providerToken(server, tokens.access_token);
  t.is(served.status, 404);
  t.is(served.body?.error, 'provider_token_missing');
});

test('each hand-out of a provider token is audited without the token, and the person sees which app took it', async (t) => {
  const setup = await setUp(t);
  const { server } = setup;
  const app = await appTokenVia(setup, ADA);
  const response = await fetch(`${server.url}/api/provider-token/acme`, {
    headers: { authorization: `Bearer ${app}` },
  });
  t.is(response.status, 200);
  const served = (await response.json()) as { access_token: string };
  const requestId = response.headers.get('x-request-id');
  t.truthy(requestId);
  // A refusal hands nothing out and is not recorded as a hand-out.
  t.is((await callApi(server, app, 'GET', '/api/provider-token/nowhere')).status, 404);

  const { db } = server.app.services;
  const rows = await db.selectFrom('audit_events').selectAll().where('event', '=', 'provider_token_fetched').execute();
  t.is(rows.length, 1);
  const row = rows[0];
  const identity = await db.selectFrom('linked_identities').selectAll().executeTakeFirstOrThrow();
  const claims = JSON.parse(Buffer.from(app.split('.')[1] ?? '', 'base64url').toString()) as Record<string, string>;
  t.is(row?.account_id, identity.account_id);
  t.is(row?.client_id, claims.client_id);
  t.is(row?.request_id, requestId);
  t.is(row?.outcome, 'success');
  t.like(typeof row?.detail === 'string' ? JSON.parse(row.detail) : row?.detail, { provider: 'acme' });
  // No token material: neither the token handed out nor anything kept for it, sealed or not.
  const kept = await db.selectFrom('provider_tokens').selectAll().executeTakeFirstOrThrow();
  const recorded = JSON.stringify(row);
  for (const secret of [served.access_token, kept.access_token_sealed, kept.refresh_token_sealed ?? '', app])
    t.false(recorded.includes(secret));
  t.notRegex(recorded, /token"\s*:/);

  // The person's activity page says which app fetched which provider's token.
  const browser = new PageClient(server.url);
  await continueWith(browser, await land(browser, '/account/providers'), 'acme');
  const activity = await land(browser, '/account/activity');
  t.regex(activity.html, /Test RP fetched your Acme SSO token/);
});

test('a token without the provider_tokens scope, or none at all, is refused', async (t) => {
  const setup = await setUp(t);
  const { server } = setup;
  const withoutScope = await appTokenVia(setup, ADA, 'openid account:read');
  const refused = await providerToken(server, withoutScope);
  t.is(refused.status, 403);
  t.is(refused.body?.error, 'insufficient_scope');

  const response = await fetch(`${server.url}/api/provider-token/acme`);
  t.is(response.status, 401);
  t.regex(response.headers.get('www-authenticate') ?? '', /Bearer/);

  // The route is in the OpenAPI document with its scope.
  const document = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { security?: unknown }>>;
  };
  const operation = document.paths['/api/provider-token/{provider}']?.get;
  t.truthy(operation);
  t.regex(JSON.stringify(operation?.security), /provider_tokens/);
});

// Two instances share work only through one Postgres and one Redis (without them each has its own store).
const shared = process.env.DATABASE_URL && process.env.REDIS_URL ? test : test.skip;

shared('the background refresh renews a token before it expires, exactly once across two instances', async (t) => {
  const acme = await startUpstream(t, '127.0.0.21');
  const clock = testClock();
  const { a, b } = await twoInstances(t, upstreamEnv(acme.issuer), { clock });
  const setup = { server: a, acme, config: await connect(a, acme) };
  const app = await appTokenVia(setup, ADA);
  const first = await providerToken(b, app);
  t.is(first.status, 200, JSON.stringify(first.body));
  const kept = first.body?.access_token;

  // Nothing is due yet: neither instance refreshes.
  await Promise.all([a.app.services.providerTokenRefresher.tick(), b.app.services.providerTokenRefresher.tick()]);
  t.is(acme.state.refreshRequests, 0);

  // Four minutes before the hour-long token expires, both instances look for due tokens at once.
  clock.advance(3600 - 240);
  await Promise.all([a.app.services.providerTokenRefresher.tick(), b.app.services.providerTokenRefresher.tick()]);
  t.is(acme.state.refreshRequests, 1);
  await Promise.all([a.app.services.providerTokenRefresher.tick(), b.app.services.providerTokenRefresher.tick()]);
  t.is(acme.state.refreshRequests, 1);

  // The app gets the renewed token from either instance, with no refresh of its own.
  const renewed = await providerToken(a, app);
  t.not(renewed.body?.access_token, kept);
  t.is(await upstreamSubject(acme, renewed.body?.access_token), 'acme-ada');
  const fromB = await providerToken(b, app);
  t.is(fromB.body?.access_token, renewed.body?.access_token, JSON.stringify(fromB.body));
  t.is(acme.state.refreshRequests, 1);
});

test('an upstream that answers invalid_grant marks the link, the account page says so, and a new sign-in there mends it', async (t) => {
  const setup = await setUp(t);
  const { server, acme } = setup;
  const app = await appTokenVia(setup, ADA);
  // The person also has the account page open, signed in with Acme.
  const browser = new PageClient(server.url);
  const page = await continueWith(browser, await land(browser, '/account/providers'), 'acme');
  t.is(page.url.pathname, '/account/providers');
  t.notRegex(page.html, /no longer accepts/);

  // The person revoked FairyID at Acme: its token endpoint now refuses the kept refresh token.
  acme.state.refuseRefresh = true;
  server.clock.advance(3600 - 240);
  await server.app.services.providerTokenRefresher.tick();
  t.is(acme.state.refreshRequests, 1);
  const refused = await providerToken(server, app);
  t.is(refused.status, 409);
  t.is(refused.body?.error, 'provider_reconsent_required');
  t.regex(refused.body?.error_description, /reconnect Acme SSO at \/account\/providers/);
  // Marked, the token is not tried again: no more refresh requests from the job or the endpoint.
  await server.app.services.providerTokenRefresher.tick();
  t.is((await providerToken(server, app)).status, 409);
  t.is(acme.state.refreshRequests, 1);

  const told = await land(browser, '/account/providers');
  t.regex(told.html, /Acme SSO no longer accepts the access apps use on your behalf/);
  t.regex(told.html, /<form method="post" action="\/account\/providers\/link\/acme">/);
  t.regex(told.html, /aria-label="Reconnect Acme SSO"/);

  // Signing in with Acme again brings new tokens: the mark is gone and apps get a token again.
  acme.state.refuseRefresh = false;
  const again = new PageClient(server.url);
  const mendedPage = await continueWith(again, await land(again, '/account/providers'), 'acme');
  t.is(mendedPage.url.pathname, '/account/providers');
  t.notRegex(mendedPage.html, /no longer accepts/);
  const mended = await providerToken(server, app);
  t.is(mended.status, 200);
  t.is(await upstreamSubject(acme, mended.body?.access_token), 'acme-ada');
});

test("GitHub's expiring user tokens are refreshed, and its bad_refresh_token (sent with a 200) marks the link", async (t) => {
  const github = await startGitHubStandIn(t, '127.0.0.23');
  github.state.expiringTokens = true;
  github.state.person = { id: 4242, login: 'octo', name: 'Octo', emails: [] };
  const server = await startTestServer(t, {
    env: {
      GITHUB_CLIENT_ID: 'Iv1.fairyid',
      GITHUB_CLIENT_SECRET: 'github-client-secret-for-fairyid',
      GITHUB_URL: github.url,
      GITHUB_API_URL: github.url,
    },
  });
  github.state.client = {
    id: 'Iv1.fairyid',
    secret: 'github-client-secret-for-fairyid',
    redirectUri: `${server.url}/federation/github/callback`,
  };
  const { clientId, clientSecret } = await registerClient(server.app);
  const config = await discover(server.url, clientId, clientSecret);
  const resource = `${server.url}/api`;
  const signIn = await authorize(server, config, { scope: 'openid provider_tokens', resource });
  const consent = await continueWith(signIn.client, signIn, 'github');
  const done = await submit(signIn.client, consent, '/confirm');
  const app = (await oidc.authorizationCodeGrant(config, done.url, signIn.check, { resource })).access_token;
  const get = () => callApi(server, app, 'GET', '/api/provider-token/github');

  const first = await get();
  t.is(first.status, 200, JSON.stringify(first.body));
  // A GitHub App's user token has the app's permissions rather than scopes: GitHub reports none.
  t.deepEqual(first.body?.scopes, []);
  t.is(github.ownerOf(first.body?.access_token), 4242);
  t.true(Date.parse(first.body?.expires_at) > server.clock.now() + 7 * 3600_000);

  // Eight hours on, the token has expired: the app gets a refreshed one.
  server.clock.advance(8 * 3600);
  const second = await get();
  t.is(second.status, 200, JSON.stringify(second.body));
  t.not(second.body?.access_token, first.body?.access_token);
  t.is(github.ownerOf(second.body?.access_token), 4242);
  t.is(github.state.refreshRequests, 1);

  // The person revokes FairyID at GitHub; the background refresh is told bad_refresh_token.
  github.revokeRefreshTokens();
  server.clock.advance(8 * 3600);
  await server.app.services.providerTokenRefresher.tick();
  t.is(github.state.refreshRequests, 2);
  const refused = await get();
  t.is(refused.status, 409);
  t.is(refused.body?.error, 'provider_reconsent_required');
  t.is(github.state.refreshRequests, 2);
});

test('a client-credentials token with provider_tokens belongs to no person and gets no provider token', async (t) => {
  const setup = await setUp(t);
  const { server } = setup;
  const ada = await appTokenVia(setup, ADA);
  const { clientId, clientSecret } = await registerClient(server.app, {
    grantTypes: ['client_credentials'],
    redirectUris: [],
    postLogoutRedirectUris: [],
    scope: 'provider_tokens',
  });
  const machine = await discover(server.url, clientId, clientSecret);
  const { access_token } = await oidc.clientCredentialsGrant(machine, { scope: 'provider_tokens' });
  const refused = await providerToken(server, access_token);
  t.is(refused.status, 403);
  t.is(refused.body?.error, 'person_required');

  // Linked, but nothing kept (a link made before tokens were kept): the person is told what to do.
  await server.app.services.db.deleteFrom('provider_tokens').execute();
  const missing = await providerToken(server, ada);
  t.is(missing.status, 404);
  t.is(missing.body?.error, 'provider_token_missing');
  t.regex(missing.body?.error_description, /sign in with Acme SSO once more/);
});
