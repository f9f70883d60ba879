import test from 'ava';
import * as oidc from 'openid-client';
import { apiToken, apiTokens, callApi } from '../helpers/api.ts';
import { accountByEmail, signedInAt, submitForm } from '../helpers/account-pages.ts';
import { csrfToken } from '../helpers/page-client.ts';
import { discover, pkcePair, registerClient, RP_REDIRECT } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { codeFlowWithOfflineAccess, signInThroughPages } from '../helpers/sign-in.ts';

const PAGE = '/account/apps';

/** The client ids the apps page offers to disconnect, in page order. */
const listedApps = (html: string) => [...html.matchAll(/name="client" value="([^"]+)"/g)].map((match) => match[1]!);

/** An app (its own client) that signs `email` in with openid email profile offline_access: opaque access token and a refresh token. */
async function notesApp(server: TestServer, email: string, name = 'Pixie Notes') {
  const { clientId, clientSecret } = await registerClient(server.app, { name });
  const config = await discover(server.url, clientId, clientSecret);
  return { clientId, config, tokens: await codeFlowWithOfflineAccess(server.url, config, email) };
}

async function refreshError(config: oidc.Configuration, refreshToken: string, parameters?: Record<string, string>) {
  try {
    await oidc.refreshTokenGrant(config, refreshToken, parameters);
    return undefined;
  } catch (error) {
    return (error as oidc.ResponseBodyError).error;
  }
}

test('disconnecting an app on the account page revokes its grant: refresh fails, introspection says inactive, /api refuses its JWT', async (t) => {
  const server = await startTestServer(t);
  const email = 'revoker@example.com';
  const notes = await notesApp(server, email);
  const api = await apiTokens(server, email, ['offline_access', 'account:read']);
  const resource = `${server.url}/api`;
  const apiClientId = api.config.clientMetadata().client_id;

  // Control: everything works before.
  t.true((await oidc.tokenIntrospection(notes.config, notes.tokens.access_token)).active);
  t.is((await callApi(server, api.tokens.access_token, 'GET', '/api/me')).status, 200);

  const { client, html } = await signedInAt(server, PAGE, email);
  t.regex(html, /aria-current="page">Connected apps</);
  t.deepEqual(listedApps(html).sort(), [notes.clientId, apiClientId].sort(), 'both apps, and not FairyID’s own pages');
  t.regex(html, /<h2 class="app-name">Pixie Notes<\/h2>/);
  t.regex(html, /<li>See your email address<\/li>/);
  t.regex(html, /<li>Stay connected when you are not using it<\/li>/);
  t.regex(html, /<li>Read your FairyID account through the FairyID API<\/li>/);

  const asked = await submitForm(client, html, `${PAGE}/disconnect`, { client: notes.clientId });
  t.is(asked.response.status, 200, 'the first press asks to confirm');
  t.regex(asked.html, /<h1 id="page-title">Disconnect this app\?<\/h1>/);
  t.regex(asked.html, /<strong>Pixie Notes<\/strong> loses its access/);
  t.true(
    (await oidc.tokenIntrospection(notes.config, notes.tokens.access_token)).active,
    'nothing is revoked before the confirmation',
  );
  const disconnected = await submitForm(client, asked.html, `${PAGE}/disconnect`, {
    client: notes.clientId,
    confirm: 'yes',
  });
  t.is(disconnected.response.status, 303);
  t.is(disconnected.response.headers.get('location'), `${PAGE}?disconnected=1`);
  const after = await (await client.request(`${PAGE}?disconnected=1`)).text();
  t.regex(after, /The app is disconnected\./);
  t.deepEqual(listedApps(after), [apiClientId]);

  t.false(
    (await oidc.tokenIntrospection(notes.config, notes.tokens.access_token)).active,
    'its access token is inactive',
  );
  t.is(
    await refreshError(notes.config, notes.tokens.refresh_token!),
    'invalid_grant',
    'its refresh token no longer works',
  );
  t.is((await callApi(server, api.tokens.access_token, 'GET', '/api/me')).status, 200, 'the other app keeps working');

  const second = await submitForm(client, after, `${PAGE}/disconnect`, { client: apiClientId, confirm: 'yes' });
  t.is(second.response.status, 303);
  t.is(
    (await callApi(server, api.tokens.access_token, 'GET', '/api/me')).status,
    401,
    '/api refuses the JWT access token of a revoked grant',
  );
  t.is(await refreshError(api.config, api.tokens.refresh_token!, { resource }), 'invalid_grant');
  t.regex(await (await client.request(PAGE)).text(), /No apps are connected to your account\./);

  const account = await accountByEmail(server, email);
  const revoked = (await server.app.services.audit.recentFor(account.id)).filter(
    (event) => event.event === 'grant_revoked',
  );
  t.deepEqual(revoked.map((event) => event.client_id).sort(), [notes.clientId, apiClientId].sort());
});

test('a person cannot disconnect another person’s grant: an app they never connected answers 404, and a shared app loses only their own grant', async (t) => {
  const server = await startTestServer(t);
  const victim = await notesApp(server, 'victim@example.com', 'Victim Diary');
  const shared = await notesApp(server, 'victim@example.com', 'Shared Calendar');
  const attackerTokens = await codeFlowWithOfflineAccess(server.url, shared.config, 'attacker@example.com');

  const { client, html } = await signedInAt(server, PAGE, 'attacker@example.com');
  t.deepEqual(listedApps(html), [shared.clientId], 'only the app the attacker connected');

  for (const confirm of ['', 'yes']) {
    const refused = await submitForm(client, html, `${PAGE}/disconnect`, { client: victim.clientId, confirm });
    t.is(refused.response.status, 404, 'neither a confirm page nor a disconnection for another person’s app');
    t.regex(refused.html, /That app is not connected to your account\./);
  }
  t.true(
    (await oidc.tokenIntrospection(victim.config, victim.tokens.access_token)).active,
    'the victim’s grant is untouched',
  );

  const own = await submitForm(client, html, `${PAGE}/disconnect`, { client: shared.clientId, confirm: 'yes' });
  t.is(own.response.status, 303);
  t.false(
    (await oidc.tokenIntrospection(shared.config, attackerTokens.access_token)).active,
    'the attacker’s own grant is revoked',
  );
  t.true(
    (await oidc.tokenIntrospection(shared.config, shared.tokens.access_token)).active,
    'the victim’s grant for the same app is not',
  );
  t.is(await refreshError(shared.config, shared.tokens.refresh_token!), undefined);
});

test('an app the person signed in to from two browsers is listed once and disconnecting it revokes both grants', async (t) => {
  const server = await startTestServer(t);
  const email = 'two-laptops@example.com';
  const first = await notesApp(server, email);
  const secondTokens = await codeFlowWithOfflineAccess(server.url, first.config, email);

  const { client, html } = await signedInAt(server, PAGE, email);
  t.deepEqual(listedApps(html), [first.clientId]);
  await submitForm(client, html, `${PAGE}/disconnect`, { client: first.clientId, confirm: 'yes' });
  t.is(await refreshError(first.config, first.tokens.refresh_token!), 'invalid_grant');
  t.is(await refreshError(first.config, secondTokens.refresh_token!), 'invalid_grant');
});

test('an app bound to an organization shows which organization it acts for', async (t) => {
  const server = await startTestServer(t);
  const email = 'org-owner@example.com';
  const owner = await apiToken(server, email, ['organizations:write']);
  await callApi(server, owner, 'POST', '/api/organizations', { name: 'Acorn Guild', slug: 'acorn-guild' });

  const { clientId, clientSecret } = await registerClient(server.app, { name: 'Guild Ledger' });
  const config = await discover(server.url, clientId, clientSecret);
  const { challenge } = await pkcePair();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid organization',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const consent = await signInThroughPages(server.url, url.href, email, { consent: false });
  const organizationId = /name="organization_id" value="([^"]+)"/.exec(consent.html)![1]!;
  const action = /action="(\/interaction\/[^"]+\/confirm)"/.exec(consent.html)![1]!;
  const { url: callback } = await consent.client.follow(action, {
    form: { _csrf: csrfToken(consent.html), organization_id: organizationId },
  });
  t.true(callback.href.startsWith(RP_REDIRECT));

  const { html } = await signedInAt(server, PAGE, email);
  t.regex(html, /<h2 class="app-name">Guild Ledger<\/h2>[\s\S]*Acts for <strong>Acorn Guild<\/strong>/);
  t.regex(html, /<li>Know who you are \(your FairyID account identifier\)<\/li>/);
  t.notRegex(html, /you choose below/, 'the consent page’s wording is replaced by the organization named');
});

test('the apps page asks a person to sign in first', async (t) => {
  const server = await startTestServer(t);
  const response = await fetch(`${server.url}${PAGE}`, { redirect: 'manual' });
  t.is(response.status, 302);
  t.is(new URL(response.headers.get('location')!).pathname, '/auth');
  const forged = await fetch(`${server.url}${PAGE}/disconnect`, { method: 'POST', redirect: 'manual' });
  t.is(forged.status, 403, 'a disconnect without a session and its CSRF token is refused');
});
