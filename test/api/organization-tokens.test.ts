import test from 'ava';
import * as oidc from 'openid-client';
import { apiToken, callApi } from '../helpers/api.ts';
import { organizationSignIn } from '../helpers/organizations.ts';
import { outboxMessages } from '../helpers/outbox.ts';
import { csrfToken, PageClient } from '../helpers/page-client.ts';
import { discover, pkcePair, registerClient, RP_REDIRECT } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';

const SIGN_IN_SCOPES = ['offline_access', 'account:read'];

const ORG_SCOPES = ['account:read', 'organizations:read', 'organizations:write'];

const jwtPayload = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

async function joinByInvitation(server: TestServer, ownerToken: string, organizationId: string, email: string) {
  await callApi(server, ownerToken, 'POST', `/api/organizations/${organizationId}/invitations`, {
    email,
    role: 'member',
  });
  const link = /(http\S+\/invitations\/\S+)/.exec(
    (await outboxMessages(server.url)).find((m) => m.to === email)!.text,
  )![1]!;
  const browser = new PageClient(server.url);
  const page = await (await browser.request(link)).text();
  const start = await browser.request(`${new URL(link).pathname}/sign-in`, { form: { _csrf: csrfToken(page) } });
  const { html } = await signInThroughPages(server.url, start.headers.get('location')!, email, { client: browser });
  await browser.request(`${new URL(link).pathname}/accept`, { form: { _csrf: csrfToken(html) } });
}

test('the person picks an organization on consent and tokens say which one and with what role', async (t) => {
  const server = await startTestServer(t);
  const owner = await apiToken(server, 'boss@example.com', ORG_SCOPES);
  const acorn = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'Acorn', slug: 'acorn' })).body!;
  await callApi(server, owner, 'POST', '/api/organizations', { name: 'Bramble', slug: 'bramble' });

  const { config, tokens, resource } = await organizationSignIn(server, 'boss@example.com', 'Acorn', SIGN_IN_SCOPES);
  t.like(jwtPayload(tokens.access_token), { org_id: acorn.id, org_role: 'owner' });
  t.like(tokens.claims(), { org_id: acorn.id, org_role: 'owner' });
  const whoami = await callApi(server, tokens.access_token, 'GET', '/api/whoami');
  t.like(whoami.body, { org_id: acorn.id, org_role: 'owner', scope: 'account:read' });

  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource });
  t.like(jwtPayload(refreshed.access_token), { org_id: acorn.id, org_role: 'owner' }, 'refreshing keeps the binding');
});

test('removing a member from the organization makes their next org-scoped refresh fail', async (t) => {
  const server = await startTestServer(t);
  const owner = await apiToken(server, 'boss@example.com', ORG_SCOPES);
  const org = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'Acorn', slug: 'acorn' })).body!;
  await joinByInvitation(server, owner, org.id, 'helper@example.com');

  const { config, tokens, resource } = await organizationSignIn(server, 'helper@example.com', 'Acorn', SIGN_IN_SCOPES);
  t.like(jwtPayload(tokens.access_token), { org_id: org.id, org_role: 'member' });
  const helperId = tokens.claims()!.sub;
  t.is((await callApi(server, owner, 'DELETE', `/api/organizations/${org.id}/members/${helperId}`)).status, 204);

  const refused = await t.throwsAsync<oidc.ResponseBodyError>(
    oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource }),
  );
  t.is(refused?.error, 'invalid_grant');
});

test('the consent page insists on a choice among the person’s own organizations', async (t) => {
  const server = await startTestServer(t);
  const owner = await apiToken(server, 'boss@example.com', ORG_SCOPES);
  await callApi(server, owner, 'POST', '/api/organizations', { name: 'Acorn', slug: 'acorn' });
  const stranger = await apiToken(server, 'other@example.com', ORG_SCOPES);
  const theirs = (await callApi(server, stranger, 'POST', '/api/organizations', { name: 'Theirs', slug: 'theirs' }))
    .body!;

  const { clientId, clientSecret } = await registerClient(server.app);
  const config = await discover(server.url, clientId, clientSecret);
  const { challenge } = await pkcePair();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid organization',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const { html, client } = await signInThroughPages(server.url, url.href, 'boss@example.com', { consent: false });
  t.notRegex(html, /Theirs/);
  const action = /action="(\/interaction\/[^"]+\/confirm)"/.exec(html)![1]!;
  const forged = await client.request(action, { form: { _csrf: csrfToken(html), organization_id: theirs.id } });
  t.is(forged.status, 400);
  t.regex(await forged.text(), /Choose the organization/);
});
