import test from 'ava';
import * as oidc from 'openid-client';
import { accountByEmail, signedInAt, submitForm } from '../helpers/account-pages.ts';
import { apiToken, apiTokens, callApi } from '../helpers/api.ts';
import { authorize, redeem } from '../helpers/authorization.ts';
import { discover, RP_REDIRECT } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';

const CLIENT_SCOPES = ['account:read', 'clients:read', 'clients:write'];
const service = { client_name: 'Worker', grant_types: ['client_credentials'], scope: 'account:read' };

/** A person who made themselves a builder on their developer page, with an API token for /api/clients. */
async function builder(server: TestServer, email: string) {
  const { client, html } = await signedInAt(server, '/account/developer', email);
  const { response } = await submitForm(client, html, '/account/developer/builder', { builder: 'on' });
  if (response.status !== 303) throw new Error(`becoming a builder answered ${response.status}`);
  return { page: client, token: await apiToken(server, email, CLIENT_SCOPES) };
}

function secretOn(html: string) {
  return /class="client-secret">([^<]+)</.exec(html)?.[1];
}
function clientIdOn(html: string) {
  return /class="client-id">([^<]+)</.exec(html)?.[1];
}

test('a person who is not a builder cannot register a client, through the API or the developer page', async (t) => {
  const server = await startTestServer(t);
  const token = await apiToken(server, 'plain@example.com', CLIENT_SCOPES);
  const refused = await callApi(server, token, 'POST', '/api/clients', service);
  t.is(refused.status, 403);
  t.is(refused.body!.error, 'builder_required');
  t.regex(refused.body!.error_description, /builder/);

  const { client, html } = await signedInAt(server, '/account/developer', 'plain@example.com');
  t.false(html.includes('action="/account/developer/clients"'), 'no registration form for a non-builder');
  const posted = await submitForm(client, html, '/account/developer/clients', {
    name: 'Sneaky',
    kind: 'service',
  });
  t.is(posted.response.status, 403);
  t.regex(posted.html, /Only builders register apps/);
  t.deepEqual((await callApi(server, token, 'GET', '/api/clients')).body!.data, [], 'nothing was registered');
  t.is(
    await server.app.services.db
      .selectFrom('clients')
      .select('client_id')
      .where('owner_account_id', 'is not', null)
      .executeTakeFirst(),
    undefined,
  );

  const noScope = await apiToken(server, 'plain@example.com', ['account:read']);
  t.is((await callApi(server, noScope, 'POST', '/api/clients', service)).status, 403, 'clients:write is required');
});

test("a builder's web app, registered on the developer page, signs a person in with openid-client; its secret is shown once", async (t) => {
  const server = await startTestServer(t);
  const { page, token } = await builder(server, 'maker@example.com');
  const { html } = await signedInAt(server, '/account/developer', 'maker@example.com');
  t.regex(html, /You are a <strong>builder<\/strong>/);
  t.is((await accountByEmail(server, 'maker@example.com')).builder, true);

  const developer = await (await page.request('/account/developer')).text();
  const registered = await submitForm(page, developer, '/account/developer/clients', {
    name: 'Wren Web',
    kind: 'web',
    redirect_uris: `${RP_REDIRECT}\n`,
    scope: '',
  });
  t.is(registered.response.status, 201);
  t.is(registered.response.headers.get('cache-control'), 'no-store', 'the page with the secret is never cached');
  const clientId = clientIdOn(registered.html)!;
  const secret = secretOn(registered.html)!;
  t.truthy(clientId);
  t.true((secret?.length ?? 0) >= 40, 'a 256-bit secret');

  const later = await (await page.request('/account/developer')).text();
  t.true(later.includes(clientId), 'the app is listed');
  t.false(later.includes(secret), 'the secret is not shown again on the page');
  const listed = await callApi(server, token, 'GET', '/api/clients');
  t.is(listed.body!.data.length, 1);
  t.false(JSON.stringify(listed.body).includes(secret), 'nor through the API');
  t.false('client_secret' in listed.body!.data[0]);
  const stored = await server.app.services.db
    .selectFrom('clients')
    .select(['metadata', 'owner_account_id'])
    .where('client_id', '=', clientId)
    .executeTakeFirstOrThrow();
  t.false(JSON.stringify(stored.metadata).includes(secret), 'only its hash is stored');
  t.is(stored.owner_account_id, (await accountByEmail(server, 'maker@example.com')).id);
  t.false(stored.metadata.first_party ?? false, 'a builder app is never first-party: people are asked to consent');

  // Someone else signs in to the builder's app: authorization code with PKCE, through our pages.
  const config = await discover(server.url, clientId, secret);
  const flow = await authorize(server, config, { scope: 'openid profile builder' });
  const { url: callback } = await signInThroughPages(server.url, flow.url.href, 'visitor@example.com', {
    client: flow.client,
  });
  const claims = await redeem(config, callback, flow.check);
  t.is(claims.sub, (await accountByEmail(server, 'visitor@example.com')).id);

  // The `builder` claim (scope `builder`), for apps that care: the maker is one, the visitor is not.
  const makerFlow = await authorize(server, config, { scope: 'openid builder' });
  const makerCallback = (
    await signInThroughPages(server.url, makerFlow.url.href, 'maker@example.com', { client: makerFlow.client })
  ).url;
  const makerTokens = await oidc.authorizationCodeGrant(config, makerCallback, makerFlow.check);
  const makerInfo = await oidc.fetchUserInfo(config, makerTokens.access_token, makerTokens.claims()!.sub);
  t.is(makerInfo.builder, true);
  const visitorFlow = await authorize(server, config, { scope: 'openid builder' });
  const visitorCallback = (
    await signInThroughPages(server.url, visitorFlow.url.href, 'visitor@example.com', { client: visitorFlow.client })
  ).url;
  const visitorTokens = await oidc.authorizationCodeGrant(config, visitorCallback, visitorFlow.check);
  const visitorInfo = await oidc.fetchUserInfo(config, visitorTokens.access_token, visitorTokens.claims()!.sub);
  t.is(visitorInfo.builder, false);
  const me = await callApi(server, token, 'GET', '/api/me');
  t.is(me.body!.builder, true);
});

test('rotating a secret shows the new one once and the old one stops working at once', async (t) => {
  const server = await startTestServer(t);
  const { page, token } = await builder(server, 'maker@example.com');
  const created = await callApi(server, token, 'POST', '/api/clients', service);
  t.is(created.status, 201);
  const { client_id: clientId, client_secret: first } = created.body!;
  const config = await discover(server.url, clientId, first);
  t.truthy((await oidc.clientCredentialsGrant(config, { scope: 'account:read' })).access_token);
  t.false(JSON.stringify((await callApi(server, token, 'GET', `/api/clients/${clientId}`)).body).includes(first));

  const rotated = await callApi(server, token, 'POST', `/api/clients/${clientId}/secret`);
  t.is(rotated.status, 200);
  const second = rotated.body!.client_secret;
  t.truthy(second);
  t.not(second, first);
  const stale = await t.throwsAsync<oidc.ResponseBodyError>(
    oidc.clientCredentialsGrant(config, { scope: 'account:read' }),
  );
  t.is(stale?.error, 'invalid_client');
  const fresh = await discover(server.url, clientId, second);
  t.truthy((await oidc.clientCredentialsGrant(fresh, { scope: 'account:read' })).access_token);

  // The page's "New secret" does the same, and shows the new secret on its answer only.
  const developer = await (await page.request('/account/developer')).text();
  const onPage = await submitForm(page, developer, '/account/developer/clients/rotate', { client: clientId });
  t.is(onPage.response.status, 200);
  const third = secretOn(onPage.html)!;
  t.truthy(third);
  t.not(third, second);
  await t.throwsAsync(oidc.clientCredentialsGrant(fresh, { scope: 'account:read' }));
  const latest = await discover(server.url, clientId, third);
  t.truthy((await oidc.clientCredentialsGrant(latest, { scope: 'account:read' })).access_token);
  t.false((await (await page.request('/account/developer')).text()).includes(third));

  // A public client has no secret to rotate.
  const spa = await callApi(server, token, 'POST', '/api/clients', {
    client_name: 'SPA',
    redirect_uris: ['https://spa.example/cb'],
    token_endpoint_auth_method: 'none',
  });
  t.is(spa.status, 201);
  t.false('client_secret' in spa.body!);
  const none = await callApi(server, token, 'POST', `/api/clients/${spa.body!.client_id}/secret`);
  t.is(none.status, 409);
  t.is(none.body!.error, 'public_client');

  t.is((await callApi(server, token, 'DELETE', `/api/clients/${clientId}`)).status, 204);
  await t.throwsAsync(oidc.clientCredentialsGrant(latest, { scope: 'account:read' }));
  t.is((await callApi(server, token, 'GET', `/api/clients/${clientId}`)).status, 404);
});

test('the per-person limit holds, for requests one after another and all at once', async (t) => {
  const server = await startTestServer(t, { env: { BUILDER_CLIENTS_PER_PERSON: '2' } });
  const { page, token } = await builder(server, 'maker@example.com');
  const burst = await Promise.all(
    Array.from({ length: 5 }, (_, i) =>
      callApi(server, token, 'POST', '/api/clients', { ...service, client_name: `Worker ${i}` }),
    ),
  );
  t.is(burst.filter((answer) => answer.status === 201).length, 2, 'exactly the limit, however many race');
  for (const refused of burst.filter((answer) => answer.status !== 201)) {
    t.is(refused.status, 409);
    t.is(refused.body!.error, 'client_limit_reached');
  }
  const listed = await callApi(server, token, 'GET', '/api/clients');
  t.is(listed.body!.data.length, 2);
  t.is(listed.body!.limit, 2);

  const developer = await (await page.request('/account/developer')).text();
  t.regex(developer, /2 of 2 apps/);
  const onPage = await submitForm(page, developer, '/account/developer/clients', { name: 'Third', kind: 'device' });
  t.is(onPage.response.status, 409);
  t.regex(onPage.html, /at most 2 apps/);

  // Deleting one makes room again; another builder has a limit of their own.
  t.is((await callApi(server, token, 'DELETE', `/api/clients/${listed.body!.data[0].client_id}`)).status, 204);
  t.is((await callApi(server, token, 'POST', '/api/clients', service)).status, 201);
  const other = await builder(server, 'other@example.com');
  t.is((await callApi(server, other.token, 'POST', '/api/clients', service)).status, 201);

  // Closer together than HTTP can bring them: twenty registrations at once, in the server's own process.
  const third = await builder(server, 'third@example.com');
  const actor = {
    accountId: (await accountByEmail(server, 'third@example.com')).id,
    origin: { ip: null, userAgent: null },
  };
  const input = {
    name: 'Racer',
    redirectUris: [],
    postLogoutRedirectUris: [],
    grantTypes: ['client_credentials'],
    authMethod: 'client_secret_basic' as const,
  };
  const race = await Promise.allSettled(
    Array.from({ length: 20 }, () => server.app.services.builders.register(actor, input)),
  );
  t.is(race.filter((outcome) => outcome.status === 'fulfilled').length, 2);
  t.is((await callApi(server, third.token, 'GET', '/api/clients')).body!.data.length, 2);
});

test("another builder's client does not exist for you: not listed, not read, not rotated, not deleted", async (t) => {
  const server = await startTestServer(t);
  const alice = await builder(server, 'alice@example.com');
  const bob = await builder(server, 'bob@example.com');
  const theirs = (await callApi(server, alice.token, 'POST', '/api/clients', service)).body!;
  const path = `/api/clients/${theirs.client_id}`;

  t.deepEqual((await callApi(server, bob.token, 'GET', '/api/clients')).body!.data, []);
  for (const [method, target] of [
    ['GET', path],
    ['POST', `${path}/secret`],
    ['DELETE', path],
  ] as const) {
    const answer = await callApi(server, bob.token, method, target);
    t.is(answer.status, 404, `${method} ${target}`);
    t.is(answer.body!.error, 'client_not_found');
  }
  const unknown = await callApi(server, bob.token, 'GET', '/api/clients/no-such-client');
  t.deepEqual(unknown.body, (await callApi(server, bob.token, 'GET', path)).body, 'the same answer as for no client');

  const developer = await (await bob.page.request('/account/developer')).text();
  t.false(developer.includes(theirs.client_id));
  const rotate = await submitForm(bob.page, developer, '/account/developer/clients/rotate', {
    client: theirs.client_id,
  });
  t.is(rotate.response.status, 404);
  t.false(/class="client-secret"/.test(rotate.html));
  const remove = await submitForm(bob.page, developer, '/account/developer/clients/delete', {
    client: theirs.client_id,
  });
  t.is(remove.response.status, 404);

  // Nor is an organization's or an operator's client a builder's to touch.
  const operators = await server.app.clients.register({
    name: 'Operator app',
    redirectUris: [],
    postLogoutRedirectUris: [],
    grantTypes: ['client_credentials'],
    authMethod: 'client_secret_basic',
    firstParty: true,
  });
  t.is((await callApi(server, bob.token, 'DELETE', `/api/clients/${operators.metadata.client_id}`)).status, 404);
  t.is((await callApi(server, bob.token, 'DELETE', '/api/clients/fairyid-pages')).status, 404);

  const still = await callApi(server, alice.token, 'GET', path);
  t.is(still.status, 200);
  t.is(still.body!.client_id, theirs.client_id);
  t.truthy(await server.app.clients.find(operators.metadata.client_id));
});

test('redirect URIs are held to the same rule as every other client', async (t) => {
  const server = await startTestServer(t);
  const { page, token } = await builder(server, 'maker@example.com');
  const plain = await callApi(server, token, 'POST', '/api/clients', {
    client_name: 'Web',
    redirect_uris: ['http://wren.example/callback'],
  });
  t.is(plain.status, 400);
  t.is(plain.body!.error, 'invalid_redirect_uri');
  const userinfo = await callApi(server, token, 'POST', '/api/clients', {
    client_name: 'Web',
    redirect_uris: ['https://u:hunter2@wren.example/cb'],
  });
  t.is(userinfo.body!.error, 'invalid_redirect_uri');
  t.false(userinfo.body!.error_description.includes('hunter2'));

  const developer = await (await page.request('/account/developer')).text();
  const onPage = await submitForm(page, developer, '/account/developer/clients', {
    name: 'Web',
    kind: 'spa',
    redirect_uris: 'http://wren.example/callback',
  });
  t.is(onPage.response.status, 400);
  t.regex(onPage.html, /must use https/);
  const missing = await submitForm(page, developer, '/account/developer/clients', { name: 'Web', kind: 'web' });
  t.is(missing.response.status, 400);
  t.regex(missing.html, /at least one redirect URI/);

  // RFC 8252: a native app redirects to a loopback listener or a scheme of its own.
  const native = await submitForm(page, developer, '/account/developer/clients', {
    name: 'Desk',
    kind: 'native',
    redirect_uris: 'http://127.0.0.1:8765/cb\ncom.example.desk:/cb',
  });
  t.is(native.response.status, 201);
  t.falsy(secretOn(native.html), 'a public client gets no secret');
  const listed = (await callApi(server, token, 'GET', '/api/clients')).body!.data;
  t.deepEqual(
    listed.map((client: { application_type: string }) => client.application_type),
    ['native'],
  );
  t.deepEqual((await callApi(server, token, 'GET', '/api/clients')).body!.data[0].redirect_uris, [
    'http://127.0.0.1:8765/cb',
    'com.example.desk:/cb',
  ]);
});

test('the platform owner makes an account a builder or not; nobody else can', async (t) => {
  const server = await startTestServer(t, { env: { PLATFORM_OWNER_EMAIL: 'queen@example.com' } });
  const queen = await apiToken(server, 'queen@example.com', ['platform:manage']);
  const person = await apiToken(server, 'person@example.com', CLIENT_SCOPES);
  const id = (await accountByEmail(server, 'person@example.com')).id;
  const notOwner = await apiToken(server, 'someone@example.com', ['platform:manage']);
  const refused = await callApi(server, notOwner, 'PUT', `/api/platform/accounts/${id}/builder`, { builder: true });
  t.is(refused.status, 403);
  t.is(refused.body!.error, 'platform_owner_required');
  t.false((await accountByEmail(server, 'person@example.com')).builder);

  const made = await callApi(server, queen, 'PUT', `/api/platform/accounts/${id}/builder`, { builder: true });
  t.deepEqual(made.body, { account_id: id, builder: true });
  t.is((await callApi(server, person, 'POST', '/api/clients', service)).status, 201);

  const unmade = await callApi(server, queen, 'PUT', `/api/platform/accounts/${id}/builder`, { builder: false });
  t.is(unmade.body!.builder, false);
  t.is((await callApi(server, person, 'POST', '/api/clients', service)).body!.error, 'builder_required');
  t.is(
    (await callApi(server, person, 'GET', '/api/clients')).body!.data.length,
    1,
    'what they registered stays theirs',
  );
  const missing = await callApi(
    server,
    queen,
    'PUT',
    '/api/platform/accounts/00000000-0000-4000-8000-000000000000/builder',
    {
      builder: true,
    },
  );
  t.is(missing.status, 404);
  const events = await server.app.services.db
    .selectFrom('audit_events')
    .select(['event', 'detail'])
    .where('account_id', '=', id)
    .where('event', 'in', ['builder_changed', 'client_registered'])
    .orderBy('id')
    .execute();
  t.deepEqual(
    events.map((row) => row.event),
    ['builder_changed', 'client_registered', 'builder_changed'],
  );
});

const webApp = { client_name: 'Wren Web', redirect_uris: [RP_REDIRECT] };

/** The grant an RFC 9068 access token was issued under, and what oidc-provider still stores for it. */
async function storedFor(server: TestServer, accessToken: string) {
  const { grant_id } = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString()) as {
    grant_id: string;
  };
  const rows = await server.app.services.db
    .selectFrom('oidc_payloads')
    .select('model')
    .where((eb) => eb.or([eb('grant_id', '=', grant_id), eb.and([eb('model', '=', 'Grant'), eb('id', '=', grant_id)])]))
    .execute();
  return rows.map((row) => row.model).sort();
}

test('deleting a client through the API revokes what it was issued: no refresh, and /api refuses its tokens', async (t) => {
  const server = await startTestServer(t);
  const alice = await builder(server, 'alice@example.com');
  const web = (await callApi(server, alice.token, 'POST', '/api/clients', webApp)).body!;
  const worker = (await callApi(server, alice.token, 'POST', '/api/clients', service)).body!;
  const resource = `${server.url}/api`;
  const pat = await apiTokens(server, 'pat@example.com', ['offline_access', 'account:read'], {
    client: { clientId: web.client_id, clientSecret: web.client_secret },
  });
  const machineConfig = await discover(server.url, worker.client_id, worker.client_secret);
  const machine = (await oidc.clientCredentialsGrant(machineConfig, { scope: 'account:read', resource })).access_token;
  // Pat also uses another app, which deleting Alice's apps leaves alone.
  const other = await apiToken(server, 'pat@example.com', ['account:read']);
  t.is((await callApi(server, pat.tokens.access_token, 'GET', '/api/me')).status, 200);
  t.is((await callApi(server, machine, 'GET', '/api/me')).status, 403, 'a machine token passes the guard');
  t.deepEqual(await storedFor(server, pat.tokens.access_token), ['Grant', 'RefreshToken']);

  t.is((await callApi(server, alice.token, 'DELETE', `/api/clients/${web.client_id}`)).status, 204);
  t.is((await callApi(server, alice.token, 'DELETE', `/api/clients/${worker.client_id}`)).status, 204);

  const refresh = await t.throwsAsync(oidc.refreshTokenGrant(pat.config, pat.tokens.refresh_token!, { resource }));
  t.true(['invalid_client', 'invalid_grant'].includes((refresh as oidc.ResponseBodyError).error));
  t.deepEqual(await storedFor(server, pat.tokens.access_token), [], 'the grant and its refresh token are gone');
  for (const token of [pat.tokens.access_token, machine]) {
    const refused = await callApi(server, token, 'GET', '/api/me');
    t.is(refused.status, 401);
    t.is(refused.body!.error, 'invalid_token');
  }
  t.is((await callApi(server, other, 'GET', '/api/me')).status, 200);
});

test("deleting a client on the developer page revokes people's grants to it, as the API does", async (t) => {
  const server = await startTestServer(t);
  const { page, token } = await builder(server, 'maker@example.com');
  const web = (await callApi(server, token, 'POST', '/api/clients', webApp)).body!;
  const resource = `${server.url}/api`;
  const pat = await apiTokens(server, 'pat@example.com', ['offline_access', 'account:read'], {
    client: { clientId: web.client_id, clientSecret: web.client_secret },
  });
  const developer = await (await page.request('/account/developer')).text();
  const removed = await submitForm(page, developer, '/account/developer/clients/delete', { client: web.client_id });
  t.is(removed.response.status, 303);

  t.deepEqual(await storedFor(server, pat.tokens.access_token), []);
  await t.throwsAsync(oidc.refreshTokenGrant(pat.config, pat.tokens.refresh_token!, { resource }));
  t.is((await callApi(server, pat.tokens.access_token, 'GET', '/api/me')).status, 401);
});
