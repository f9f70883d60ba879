import test from 'ava';
import { apiToken, callApi } from '../helpers/api.ts';
import { authorize, passEmailCode } from '../helpers/authorization.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';
import { appLinkProblem } from '../../src/oidc/app-links.ts';

const HOSTILE = [
  'http://pixie.example/logo.png',
  'javascript:alert(document.cookie)',
  'JavaScript:alert(1)',
  'data:image/svg+xml;base64,PHN2Zy8+',
  'data:text/html,<script>alert(1)</script>',
  'https://user:secret@pixie.example/logo.png',
  'ftp://pixie.example/logo.png',
  'not a url',
];

test('app links: https only outside development; never javascript:, data:, or a user name in the URL', (t) => {
  for (const field of ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri'] as const) {
    t.is(appLinkProblem(field, 'https://pixie.example/logo.png', { allowHttp: false }), undefined);
    for (const uri of HOSTILE) t.truthy(appLinkProblem(field, uri, { allowHttp: false }), `${field} ${uri}`);
    t.is(appLinkProblem(field, 'http://localhost:4000/logo.png', { allowHttp: true }), undefined, 'development');
    t.truthy(appLinkProblem(field, 'javascript:alert(1)', { allowHttp: true }), 'not even in development');
    t.truthy(appLinkProblem(field, 'data:image/png;base64,AAAA', { allowHttp: true }), 'not even in development');
  }
});

test('registering or updating a client refuses a bad logo_uri, by the CLI registry and the organization API', async (t) => {
  const server = await startTestServer(t, { env: { PLATFORM_OWNER_EMAIL: 'queen@example.com' } });
  for (const uri of HOSTILE) {
    await t.throwsAsync(registerClient(server.app, { appLinks: { logo_uri: uri } }), undefined, uri);
  }
  const { clientId } = await registerClient(server.app, { appLinks: { logo_uri: 'https://pixie.example/logo.png' } });
  await t.throwsAsync(server.app.clients.updateAppLinks(clientId, { tos_uri: 'javascript:alert(1)' }));
  const updated = await server.app.clients.updateAppLinks(clientId, { tos_uri: 'https://pixie.example/terms' });
  t.is(updated?.tos_uri, 'https://pixie.example/terms');
  t.is(updated?.logo_uri, 'https://pixie.example/logo.png');
  t.is((await server.app.clients.updateAppLinks(clientId, { logo_uri: '' }))?.logo_uri, undefined, '"" removes');

  const owner = await apiToken(server, 'owner@example.com', ['organizations:read', 'organizations:write']);
  const queen = await apiToken(server, 'queen@example.com', ['platform:manage']);
  const org = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'Pixie Co', slug: 'pixie' })).body!;
  await callApi(server, queen, 'POST', `/api/platform/organizations/${org.id}/approve`, {});
  const app = {
    client_name: 'Pixie Notes',
    redirect_uris: ['https://pixie.example/callback'],
    logo_uri: 'https://pixie.example/logo.png',
    client_uri: 'https://pixie.example/',
    policy_uri: 'https://pixie.example/privacy',
    tos_uri: 'https://pixie.example/terms',
  };
  for (const uri of HOSTILE) {
    const refused = await callApi(server, owner, 'POST', `/api/organizations/${org.id}/clients`, {
      ...app,
      logo_uri: uri,
    });
    t.is(refused.status, 400, uri);
  }
  const created = await callApi(server, owner, 'POST', `/api/organizations/${org.id}/clients`, app);
  t.is(created.status, 201);
  t.is(created.body!.logo_uri, app.logo_uri);
  t.is(created.body!.tos_uri, app.tos_uri);
  const path = `/api/organizations/${org.id}/clients/${created.body!.client_id}`;
  const bad = await callApi(server, owner, 'PATCH', path, { policy_uri: 'data:text/html,hello' });
  t.is(bad.status, 400);
  t.is(bad.body!.error, 'invalid_client_metadata');
  const changed = await callApi(server, owner, 'PATCH', path, { policy_uri: 'https://pixie.example/privacy-2026' });
  t.is(changed.status, 200);
  t.is(changed.body!.policy_uri, 'https://pixie.example/privacy-2026');
});

test("the sign-in and consent pages show the app's logo, domain and links; only that page's img-src admits the logo's origin", async (t) => {
  const server = await startTestServer(t);
  const { clientId, clientSecret } = await registerClient(server.app, {
    name: 'Pixie Notes',
    appLinks: {
      logo_uri: 'https://cdn.pixie.example/logo.png',
      client_uri: 'https://pixie.example/',
      policy_uri: 'https://pixie.example/privacy',
      tos_uri: 'https://pixie.example/terms',
    },
  });
  const config = await discover(server.url, clientId, clientSecret);
  const signIn = await authorize(server, config, { scope: 'openid email' });
  t.regex(signIn.html, /<img class="app-logo" src="https:\/\/cdn\.pixie\.example\/logo\.png"/);
  t.regex(signIn.html, /<span class="app-domain">pixie\.example<\/span>/);
  t.regex(signIn.html, /href="https:\/\/pixie\.example\/privacy"/);
  t.regex(signIn.html, /href="https:\/\/pixie\.example\/terms"/);
  const policy = signIn.response.headers.get('content-security-policy')!;
  t.regex(policy, /img-src 'self' data: https:\/\/cdn\.pixie\.example;/);
  t.regex(policy, /script-src 'self';/, 'nothing else is loosened');

  const consent = await passEmailCode(server, signIn.client, signIn, 'identity@example.com');
  t.regex(consent.html, /Allow access\?/);
  t.regex(consent.html, /<img class="app-logo" src="https:\/\/cdn\.pixie\.example\/logo\.png"/);
  t.regex(consent.html, /href="https:\/\/pixie\.example\/terms"/);
  t.regex(
    consent.response.headers.get('content-security-policy')!,
    /img-src 'self' data: https:\/\/cdn\.pixie\.example;/,
  );

  // Another app's sign-in page, and every other page, keep the strict policy.
  const plain = await registerClient(server.app, { name: 'Plain App' });
  const other = await authorize(server, await discover(server.url, plain.clientId, plain.clientSecret));
  t.regex(other.response.headers.get('content-security-policy')!, /img-src 'self' data:;/);
  t.false(other.html.includes('pixie.example'));
  t.regex(other.html, /<span class="app-logo app-initial" aria-hidden="true">P<\/span>/);
});
