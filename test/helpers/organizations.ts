import * as oidc from 'openid-client';
import { callApi } from './api.ts';
import { outboxMessages } from './outbox.ts';
import { csrfToken, PageClient } from './page-client.ts';
import { discover, pkcePair, registerClient, RP_REDIRECT } from './relying-party.ts';
import type { TestServer } from './server.ts';
import { signInThroughPages } from './sign-in.ts';

/** The newest invitation link emailed to `email`, read from the development outbox. */
export async function invitationLink(server: TestServer, email: string): Promise<string> {
  const mail = (await outboxMessages(server.url)).find(
    (message) => message.to === email && /\/invitations\//.test(message.text),
  );
  const link = mail && /(http\S+\/invitations\/\S+)/.exec(mail.text)?.[1];
  if (!link) throw new Error(`no invitation link in the outbox for ${email}`);
  return link;
}

/**
 * Brings `email` into the organization the way a person joins: the owner (or an admin) invites
 * them through the API, and they open the emailed link, sign in through the hosted pages and
 * accept. Returns the new member's account id.
 */
export async function joinByInvitation(
  server: TestServer,
  ownerToken: string,
  orgId: string,
  email: string,
  role: string,
) {
  const invited = await callApi(server, ownerToken, 'POST', `/api/organizations/${orgId}/invitations`, { email, role });
  if (invited.status !== 201)
    throw new Error(`inviting ${email} failed: ${invited.status} ${JSON.stringify(invited.body)}`);
  const link = await invitationLink(server, email);
  const path = new URL(link).pathname;

  const browser = new PageClient(server.url);
  const invitationPage = await (await browser.request(link)).text();
  const start = await browser.request(`${path}/sign-in`, { form: { _csrf: csrfToken(invitationPage) } });
  if (start.status !== 303) throw new Error(`starting the sign-in from the invitation answered ${start.status}`);
  const { url, html } = await signInThroughPages(server.url, start.headers.get('location')!, email, {
    client: browser,
  });
  if (url.pathname !== path)
    throw new Error(`signing in as ${email} ended at ${url.pathname}, not back on the invitation`);
  const accepted = await browser.request(`${path}/accept`, { form: { _csrf: csrfToken(html) } });
  const answer = await accepted.text();
  if (accepted.status !== 200 || !answer.includes('You are now a member of')) {
    throw new Error(`accepting the invitation for ${email} answered ${accepted.status}`);
  }

  const members = await callApi(server, ownerToken, 'GET', `/api/organizations/${orgId}/members?limit=100`);
  const member = (members.body?.data as { account_id: string; email: string | null }[] | undefined)?.find(
    (row) => row.email === email,
  );
  if (!member) throw new Error(`${email} accepted but is not listed among the members`);
  return { accountId: member.account_id };
}

/**
 * An organization-scoped sign-in: an app asks for the `organization` scope with `scopes`, and `email`
 * picks the organization named `pick` on the consent page, as a person would.
 */
export async function organizationSignIn(server: TestServer, email: string, pick: string, scopes: string[]) {
  const { clientId, clientSecret } = await registerClient(server.app, {
    grantTypes: ['authorization_code', 'refresh_token'],
  });
  const config = await discover(server.url, clientId, clientSecret);
  const { verifier, challenge } = await pkcePair();
  const resource = `${server.url}/api`;
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: ['openid', 'organization', ...scopes].join(' '),
    ...(scopes.includes('offline_access') ? { prompt: 'consent' } : {}),
    resource,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const { html, client } = await signInThroughPages(server.url, url.href, email, { consent: false });
  const option = new RegExp(`value="([^"]+)"[^>]*>\\s*<span>${pick}`).exec(html);
  if (!option) throw new Error(`no organization ${pick} on the consent page`);
  const action = /action="(\/interaction\/[^"]+\/confirm)"/.exec(html)?.[1];
  if (!action) throw new Error('no consent form');
  const { url: callback } = await client.follow(action, {
    form: { _csrf: csrfToken(html), organization_id: option[1] ?? '' },
  });
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier }, { resource });
  return { config, tokens, resource };
}

/** The access token of an organization-scoped sign-in. */
export async function organizationToken(server: TestServer, email: string, pick: string, scopes: string[]) {
  return (await organizationSignIn(server, email, pick, scopes)).tokens.access_token;
}
