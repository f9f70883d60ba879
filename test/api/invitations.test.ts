import test from 'ava';
import { apiToken, callApi } from '../helpers/api.ts';
import { outboxMessages } from '../helpers/outbox.ts';
import { csrfToken, PageClient } from '../helpers/page-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';

const SCOPES = ['account:read', 'organizations:read', 'organizations:write'];

async function orgWithInvitation(server: TestServer, email: string, role = 'member') {
  const owner = await apiToken(server, 'owner@example.com', SCOPES);
  const org = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'Moth Society', slug: 'moths' }))
    .body!;
  const invitation = await callApi(server, owner, 'POST', `/api/organizations/${org.id}/invitations`, { email, role });
  const mail = (await outboxMessages(server.url)).find((message) => message.to === email)!;
  const link = /(http\S+\/invitations\/\S+)/.exec(mail.text)![1]!;
  return { owner, org, invitation, link };
}

test('an invitee signs up through the emailed link, accepts, and appears as a member', async (t) => {
  const server = await startTestServer(t);
  const { owner, org, invitation, link } = await orgWithInvitation(server, 'newbie@example.com', 'admin');
  t.is(invitation.status, 201);

  const browser = new PageClient(server.url);
  const first = await (await browser.request(link)).text();
  t.regex(first, /Moth Society/);
  t.regex(first, /Sign in as newbie@example.com/);
  const start = await browser.request(`${new URL(link).pathname}/sign-in`, { form: { _csrf: csrfToken(first) } });
  t.is(start.status, 303);
  const { url, html } = await signInThroughPages(server.url, start.headers.get('location')!, 'newbie@example.com', {
    client: browser,
  });
  t.is(url.pathname, new URL(link).pathname, 'back on the invitation after signing in');
  t.regex(html, /Accept and join/);

  const accepted = await browser.request(`${url.pathname}/accept`, { form: { _csrf: csrfToken(html) } });
  t.regex(await accepted.text(), /You are now a member of Moth Society/);

  const members = await callApi(server, owner, 'GET', `/api/organizations/${org.id}/members`);
  t.deepEqual(members.body!.data.map((m: { email: string; role: string }) => [m.email, m.role]).sort(), [
    ['newbie@example.com', 'admin'],
    ['owner@example.com', 'owner'],
  ]);

  const again = await browser.request(`${url.pathname}/accept`, { form: { _csrf: csrfToken(html) } });
  t.is(again.status, 410, 'accepting twice fails cleanly');
  t.regex(await again.text(), /already accepted/);
});

test('an invitation cannot be accepted by someone signed in with another email', async (t) => {
  const server = await startTestServer(t);
  const { owner, org, link } = await orgWithInvitation(server, 'right@example.com');
  const browser = new PageClient(server.url);
  const first = await (await browser.request(link)).text();
  const start = await browser.request(`${new URL(link).pathname}/sign-in`, { form: { _csrf: csrfToken(first) } });
  const { html } = await signInThroughPages(server.url, start.headers.get('location')!, 'wrong@example.com', {
    client: browser,
  });
  t.regex(html, /You are signed in as wrong@example.com/);
  t.notRegex(html, /Accept and join/);
  const forced = await browser.request(`${new URL(link).pathname}/accept`, { form: { _csrf: csrfToken(html) } });
  t.is(forced.status, 410);
  const members = await callApi(server, owner, 'GET', `/api/organizations/${org.id}/members`);
  t.is(members.body!.data.length, 1, 'nobody joined');
});

test('revoked, resent and unknown invitation links show a human message', async (t) => {
  const server = await startTestServer(t);
  const { owner, org, invitation, link } = await orgWithInvitation(server, 'later@example.com');
  const resent = await callApi(
    server,
    owner,
    'POST',
    `/api/organizations/${org.id}/invitations/${invitation.body!.id}/resend`,
  );
  t.is(resent.status, 200);
  const oldLink = await fetch(link);
  t.is(oldLink.status, 404, 'the old link died with the resend');
  t.regex(await oldLink.text(), /not valid/);

  const revoked = await callApi(
    server,
    owner,
    'DELETE',
    `/api/organizations/${org.id}/invitations/${invitation.body!.id}`,
  );
  t.is(revoked.status, 204);
  const open = await callApi(server, owner, 'GET', `/api/organizations/${org.id}/invitations`);
  t.deepEqual(open.body!.data, []);
  const messages = await outboxMessages(server.url);
  const newest = /(http\S+\/invitations\/\S+)/.exec(messages.find((m) => m.to === 'later@example.com')!.text)![1]!;
  const afterRevoke = await fetch(newest);
  t.is(afterRevoke.status, 410);
  t.regex(await afterRevoke.text(), /withdrawn/);
});

test('inviting needs admin rights, and only owners invite owners', async (t) => {
  const server = await startTestServer(t);
  const { org } = await orgWithInvitation(server, 'member@example.com');
  const stranger = await apiToken(server, 'stranger@example.com', SCOPES);
  const denied = await callApi(server, stranger, 'POST', `/api/organizations/${org.id}/invitations`, {
    email: 'x@example.com',
  });
  t.is(denied.status, 404, 'non-members do not learn the organization exists');
  const owner = await apiToken(server, 'owner@example.com', SCOPES);
  const duplicate = await callApi(server, owner, 'POST', `/api/organizations/${org.id}/invitations`, {
    email: 'member@example.com',
  });
  t.is(duplicate.status, 409);
  t.is(duplicate.body!.error, 'invitation_exists');
});
