import { randomUUID } from 'node:crypto';
import test from 'ava';
import * as oidc from 'openid-client';
import { apiToken } from '../helpers/api.ts';
import { discover, pkcePair, registerClient, RP_REDIRECT } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';

test('the account page asks a person to sign in, then shows their DUST balance and history', async (t) => {
  const server = await startTestServer(t);
  const token = await apiToken(server, 'pixie@example.com', ['dust:spend']);
  await fetch(`${server.url}/api/dust/charges`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ amount: 7, description: 'A jar of starlight' }),
  });

  const { url, html } = await signInThroughPages(server.url, `${server.url}/account`, 'pixie@example.com');
  t.is(url.pathname, '/account', 'back on the account page after signing in');
  t.regex(html, /Signed in as <strong>pixie@example.com<\/strong>/);
  t.regex(html, /class="balance">18</);
  t.regex(html, /A jar of starlight/);
  t.regex(html, /Welcome gift/);
});

test('another person’s session never shows this person’s account', async (t) => {
  const server = await startTestServer(t);
  await signInThroughPages(server.url, `${server.url}/account`, 'first@example.com');
  const { html } = await signInThroughPages(server.url, `${server.url}/account`, 'second@example.com');
  t.regex(html, /second@example.com/);
  t.notRegex(html, /first@example.com/);
});

test('the consent page says plainly when an app asks to spend DUST', async (t) => {
  const server = await startTestServer(t);
  const { clientId, clientSecret } = await registerClient(server.app, { name: 'Bean Shop' });
  const config = await discover(server.url, clientId, clientSecret);
  const { challenge } = await pkcePair();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid dust:spend',
    resource: `${server.url}/api`,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const { html } = await signInThroughPages(server.url, url.href, 'shopper@example.com', { consent: false });
  t.regex(html, /<strong>Bean Shop<\/strong> will be able to spend your DUST/);
});
