import test from 'ava';
import { accountByEmail, ageSignIn, signedInAt, submitForm } from '../helpers/account-pages.ts';
import { csrfToken, PageClient } from '../helpers/page-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';
import { RECENT_SECOND_FACTOR_SECONDS } from '../../src/platform-console/platform-console.routes.ts';
import { accountWithApp, createOrganization, signInWithApp } from './console-owner.ts';

const QUEEN = 'queen@example.com';
const PIXIE = 'pixie@example.com';
const ENV = { PLATFORM_OWNER_EMAIL: QUEEN };

/** Every console route, with the ids of things that exist (an account, an organization, a client, a key). */
async function consoleRoutes(server: TestServer, ids: { account: string; organization: string }) {
  const [key] = await server.app.services.keys.list();
  const get = [
    '/platform',
    '/platform/',
    '/platform/organizations',
    '/platform/organizations?status=active',
    `/platform/accounts?q=${encodeURIComponent(QUEEN)}`,
    `/platform/accounts/${ids.account}`,
    '/platform/clients',
    '/platform/clients/fairyid-pages',
    '/platform/keys',
    `/platform/audit?account=${ids.account}`,
  ];
  const post = [
    `/platform/organizations/${ids.organization}/approve`,
    `/platform/organizations/${ids.organization}/reject`,
    `/platform/organizations/${ids.organization}/suspend`,
    `/platform/accounts/${ids.account}/suspend`,
    `/platform/accounts/${ids.account}/reactivate`,
    '/platform/keys/rotate',
    '/platform/keys/retire',
  ];
  return { get, post, kid: key!.kid };
}

/** What the server answers for a path that does not exist: the console must look the same to outsiders. */
async function unknownPage(client: PageClient) {
  const response = await client.request('/no-such-page');
  return { status: response.status, title: titleOf(await response.text()) };
}

const titleOf = (html: string) => /<title>([^<]*)<\/title>/.exec(html)?.[1];

test('anyone but a signed-in platform owner gets the plain 404 on every console route, GET and POST, and changes nothing', async (t) => {
  const server = await startTestServer(t, { env: ENV });
  const queen = await accountWithApp(server, QUEEN);
  const pixie = await signedInAt(server, '/account', PIXIE);
  const organization = await createOrganization(server, PIXIE, 'Pixie Works', 'pixie-works');
  const routes = await consoleRoutes(server, { account: queen.id, organization: organization.id });
  const keysBefore = await server.app.services.keys.list();

  const stranger = new PageClient(server.url);
  for (const [who, client] of [
    ['signed out', stranger],
    ['signed in, not an owner', pixie.client],
  ] as const) {
    const expected = await unknownPage(client);
    t.is(expected.status, 404);
    for (const path of routes.get) {
      const response = await client.request(path);
      t.is(response.status, 404, `${who}: GET ${path}`);
      t.is(titleOf(await response.text()), expected.title, `${who}: GET ${path} is the ordinary 404 page`);
    }
    for (const path of routes.post) {
      const without = await client.request(path, { form: { reason: 'Because', kid: routes.kid } });
      t.is(without.status, 404, `${who}: POST ${path} without a CSRF token`);
      t.is(titleOf(await without.text()), expected.title, `${who}: POST ${path} is the ordinary 404 page`);
      if (client === stranger) continue;
      // With the person's own valid CSRF token too: the console is not there either way.
      const withToken = await submitForm(client, pixie.html, path, { reason: 'Because', kid: routes.kid });
      t.is(withToken.response.status, 404, `${who}: POST ${path} with a CSRF token`);
    }
  }

  // The platform owner herself, stopped between her first and second factor, is nobody on the console either.
  const halfway = await signInThroughPages(server.url, `${server.url}/account`, QUEEN);
  t.regex(halfway.url.pathname, /\/mfa$/);
  t.is((await halfway.client.request('/platform/keys')).status, 404);

  const { services } = server.app;
  const still = await services.db
    .selectFrom('organizations')
    .select('status')
    .where('id', '=', organization.id)
    .executeTakeFirstOrThrow();
  t.is(still.status, 'pending');
  t.is((await accountByEmail(server, QUEEN)).status, 'active');
  t.deepEqual(
    (await services.keys.list()).map((key) => [key.kid, key.retired_at]),
    keysBefore.map((key) => [key.kid, key.retired_at]),
  );
});

test('a platform owner without a second factor is sent to sign in with one, and back to the console', async (t) => {
  const server = await startTestServer(t, { env: ENV });
  const { client } = await signedInAt(server, '/account', QUEEN);
  const response = await client.request('/platform/keys?x=1');
  t.is(response.status, 302);
  const location = new URL(response.headers.get('location')!, server.url);
  t.is(location.pathname, '/auth');
  t.is(location.searchParams.get('prompt'), 'login');
  t.is(location.searchParams.get('acr_values'), 'mfa');
  t.is(location.searchParams.get('client_id'), 'fairyid-pages');
  // A form posted meanwhile does nothing and goes the same way (303, so the browser GETs the sign-in).
  const keys = await server.app.services.keys.list();
  const html = await (await client.request('/account')).text();
  const posted = await client.request('/platform/keys/rotate', { form: { _csrf: csrfToken(html) } });
  t.is(posted.status, 303);
  t.is(new URL(posted.headers.get('location')!, server.url).searchParams.get('acr_values'), 'mfa');
  t.is((await server.app.services.keys.list()).length, keys.length, 'no keys were added');
});

test(`an owner whose second factor is older than ${RECENT_SECOND_FACTOR_SECONDS / 60} minutes is stepped up and comes back to the page`, async (t) => {
  const server = await startTestServer(t, { env: ENV });
  const { app } = await accountWithApp(server, QUEEN);
  const signedIn = await signInWithApp(server, '/account', QUEEN, app);
  t.is(signedIn.url.pathname, '/account');
  const { client } = signedIn;
  t.is((await client.request('/platform/organizations')).status, 200, 'a fresh second factor opens the console');

  await ageSignIn(server, QUEEN, RECENT_SECOND_FACTOR_SECONDS - 60);
  t.is((await client.request('/platform/organizations')).status, 200, 'still recent a minute before the limit');

  await ageSignIn(server, QUEEN, 120);
  const stepUp = await client.request('/platform/audit?type=sign_in');
  t.is(stepUp.status, 302);
  const location = new URL(stepUp.headers.get('location')!, server.url);
  t.is(location.searchParams.get('acr_values'), 'mfa');

  const back = await signInWithApp(server, location.href, QUEEN, app, client);
  t.is(`${back.url.pathname}${back.url.search}`, '/platform/audit?type=sign_in');
  t.is(back.response.status, 200);
  t.regex(back.html, /<h1 id="page-title">Audit log<\/h1>/);
});

test('a console form posted without its CSRF token is refused and changes nothing; with it, the action is audited with the owner', async (t) => {
  const server = await startTestServer(t, { env: ENV });
  const { id: queenId, app } = await accountWithApp(server, QUEEN);
  await signedInAt(server, '/account', PIXIE);
  const organization = await createOrganization(server, PIXIE, 'Pixie Works', 'pixie-works');
  const { client } = await signInWithApp(server, '/account', QUEEN, app);
  const page = await (await client.request('/platform/organizations')).text();
  t.regex(page, /Pixie Works/);

  const forged = await client.request(`/platform/organizations/${organization.id}/approve`, { form: {} });
  t.is(forged.status, 403);
  const wrong = await client.request(`/platform/organizations/${organization.id}/approve`, {
    form: { _csrf: 'x'.repeat(32) },
  });
  t.is(wrong.status, 403);
  const still = await server.app.services.db
    .selectFrom('organizations')
    .select('status')
    .where('id', '=', organization.id)
    .executeTakeFirstOrThrow();
  t.is(still.status, 'pending');

  const approved = await submitForm(client, page, `/platform/organizations/${organization.id}/approve`);
  t.is(approved.response.status, 303);
  t.is(approved.response.headers.get('location'), '/platform/organizations?status=pending&done=approved');
  const events = await server.app.services.audit.recentFor(queenId);
  const record = events.find((event) => event.event === 'organization_approved');
  t.like(record, { account_id: queenId, organization_id: organization.id, outcome: 'success' });
  t.like(record?.detail, { via: 'platform_console', to: 'active' });
});

test('rejecting or suspending needs a reason; a change that does not apply says so', async (t) => {
  const server = await startTestServer(t, { env: ENV });
  const { app } = await accountWithApp(server, QUEEN);
  await signedInAt(server, '/account', PIXIE);
  const organization = await createOrganization(server, PIXIE, 'Pixie Works', 'pixie-works');
  const { client } = await signInWithApp(server, '/account', QUEEN, app);
  const page = await (await client.request('/platform/organizations')).text();

  const bare = await submitForm(client, page, `/platform/organizations/${organization.id}/reject`, { reason: '  ' });
  t.is(bare.response.headers.get('location'), '/platform/organizations?status=pending&failed=reason_required');
  const shown = await (await client.request(bare.response.headers.get('location')!)).text();
  t.regex(shown, /Give a reason/);

  const suspendPending = await submitForm(client, page, `/platform/organizations/${organization.id}/suspend`, {
    reason: 'Spam',
  });
  t.is(
    suspendPending.response.headers.get('location'),
    '/platform/organizations?status=pending&failed=invalid_status_transition',
  );
  const rejected = await submitForm(client, page, `/platform/organizations/${organization.id}/reject`, {
    reason: 'Not a real company',
  });
  t.is(rejected.response.headers.get('location'), '/platform/organizations?status=pending&done=rejected');
  const list = await (await client.request('/platform/organizations?status=rejected')).text();
  t.regex(list, /Not a real company/);
});

test('account search finds people by id, email, phone and fairyname, and takes LIKE wildcards literally', async (t) => {
  const server = await startTestServer(t, { env: ENV });
  const { app } = await accountWithApp(server, QUEEN);
  await signedInAt(server, '/account', PIXIE);
  const pixie = await accountByEmail(server, PIXIE);
  await server.app.services.db
    .updateTable('accounts')
    .set({ phone_number: '+14155552671' })
    .where('id', '=', pixie.id)
    .execute();
  const { client } = await signInWithApp(server, '/account', QUEEN, app);
  const search = async (q: string) =>
    (await (await client.request(`/platform/accounts?q=${encodeURIComponent(q)}`)).text()).includes(
      `/platform/accounts/${pixie.id}"`,
    );
  t.true(await search(pixie.id));
  t.true(await search('PIXIE@'));
  t.true(await search('+1 (415) 555-26'));
  t.true(await search(pixie.fairyname.slice(0, 6)));
  t.false(await search('%'), 'a wildcard alone matches nothing');
  t.false(await search('_ixie'));
  const missing = await (await client.request('/platform/accounts?q=nobody-here')).text();
  t.regex(missing, /No account matches “nobody-here”/);
});

test('the console speaks French to a French browser', async (t) => {
  const server = await startTestServer(t, { env: ENV });
  const { app } = await accountWithApp(server, QUEEN);
  const { client } = await signInWithApp(server, '/account', QUEEN, app);
  const page = await (
    await client.request('/platform/keys', { headers: { 'accept-language': 'fr-FR,fr;q=0.9' } })
  ).text();
  t.regex(page, /<h1 id="page-title">Clés de signature<\/h1>/);
  t.regex(page, /Faire tourner les clés de signature/);
  t.regex(page, /<html lang="fr">/);
});

test('the account page leads a platform owner to the console, and nobody else', async (t) => {
  const server = await startTestServer(t, { env: ENV });
  const queen = await signedInAt(server, '/account', QUEEN);
  const pixie = await signedInAt(server, '/account', PIXIE);
  t.regex(queen.html, /<a href="\/platform">platform console<\/a>/);
  t.notRegex(pixie.html, /href="\/platform"/);
});
