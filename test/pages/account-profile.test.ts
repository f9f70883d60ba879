import test from 'ava';
import * as oidc from 'openid-client';
import { accountByEmail, signedInAt, submitForm } from '../helpers/account-pages.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';
import { codeFlowWithOfflineAccess } from '../helpers/sign-in.ts';

const PICTURE = 'https://pictures.example/tinkerbell.png';

const imgSrc = (response: Response) =>
  /img-src ([^;]+)/.exec(response.headers.get('content-security-policy') ?? '')?.[1];

test('a person saves their name and an https picture, sees them on the overview and apps get them as profile claims', async (t) => {
  const server = await startTestServer(t);
  const email = 'tink@example.com';
  const { client, html } = await signedInAt(server, '/account', email);
  t.regex(html, /aria-current="page">Overview</);
  t.regex(html, /Signed in as <strong>tink@example.com<\/strong>/);
  t.notRegex(html, /<img class="avatar"/, 'no picture yet');

  const saved = await submitForm(client, html, '/account/profile', { name: '  Tinker Bell ', picture: PICTURE });
  t.is(saved.response.status, 303);
  t.is(saved.response.headers.get('location'), '/account?saved=profile');

  const overview = await client.request('/account?saved=profile');
  const page = await overview.text();
  t.regex(page, /Your profile is saved\./);
  t.regex(page, /<p class="profile-name">Tinker Bell<\/p>/);
  t.regex(page, /<img class="avatar" src="https:\/\/pictures.example\/tinkerbell.png"/);
  t.is(imgSrc(overview), "'self' data: https:", 'the overview may load the https picture');
  t.is(imgSrc(await client.request('/account/activity')), "'self' data:", 'other pages keep the strict image policy');

  const account = await accountByEmail(server, email);
  t.is(account.name, 'Tinker Bell');
  t.is(account.picture_url, PICTURE);
  const events = await server.app.services.audit.recentFor(account.id);
  t.deepEqual(events.find((event) => event.event === 'profile_updated')?.detail, { changed: ['name', 'picture'] });

  const { clientId, clientSecret } = await registerClient(server.app, { name: 'Profile Reader' });
  const config = await discover(server.url, clientId, clientSecret);
  const tokens = await codeFlowWithOfflineAccess(server.url, config, email);
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
  t.is(userinfo.name, 'Tinker Bell');
  t.is(userinfo.picture, PICTURE);
});

test('a picture address that is not https is refused with a message and nothing is saved', async (t) => {
  const server = await startTestServer(t);
  const email = 'plain-http@example.com';
  const { client, html } = await signedInAt(server, '/account', email);

  for (const picture of [
    'http://pictures.example/me.png',
    'javascript:alert(1)',
    'https://user:secret@pictures.example/me.png',
  ]) {
    const refused = await submitForm(client, html, '/account/profile', { name: 'Puck', picture });
    t.is(refused.response.status, 400, picture);
    t.regex(
      refused.html,
      /class="alert alert-error" role="alert">(Use an https:\/\/ address|The picture address must not contain)/,
      picture,
    );
    t.true(refused.html.includes('value="Puck"'), 'what was typed is kept');
    t.notRegex(refused.html, /<img class="avatar"/);
  }
  const account = await accountByEmail(server, email);
  t.is(account.name, null);
  t.is(account.picture_url, null);
});

test('a name longer than 100 characters, or with invisible control characters, is refused', async (t) => {
  const server = await startTestServer(t);
  const { client, html } = await signedInAt(server, '/account', 'long-name@example.com');

  const tooLong = await submitForm(client, html, '/account/profile', { name: 'A'.repeat(101), picture: '' });
  t.is(tooLong.response.status, 400);
  t.regex(tooLong.html, /Keep your name to 100 characters or fewer\./);

  // A right-to-left override would make the name display as something else.
  const spoofed = await submitForm(client, html, '/account/profile', { name: 'Oberon\u202Egnik', picture: '' });
  t.is(spoofed.response.status, 400);
  t.regex(spoofed.html, /characters that cannot be shown/);

  const exactly = await submitForm(client, html, '/account/profile', { name: 'B'.repeat(100), picture: '' });
  t.is(exactly.response.status, 303);
  t.is((await accountByEmail(server, 'long-name@example.com')).name, 'B'.repeat(100));
});

test('emptying the fields clears the name and picture, and the page goes back to the strict image policy', async (t) => {
  const server = await startTestServer(t);
  const email = 'clear@example.com';
  const { client, html } = await signedInAt(server, '/account', email);
  await submitForm(client, html, '/account/profile', { name: 'Titania', picture: PICTURE });

  const cleared = await submitForm(client, html, '/account/profile', { name: '', picture: '' });
  t.is(cleared.response.status, 303);
  const overview = await client.request('/account');
  t.notRegex(await overview.text(), /<img class="avatar"/);
  t.is(imgSrc(overview), "'self' data:");
  const account = await accountByEmail(server, email);
  t.is(account.name, null);
  t.is(account.picture_url, null);
});

test('a profile form sent without its CSRF token is refused and changes nothing', async (t) => {
  const server = await startTestServer(t);
  const email = 'forged-profile@example.com';
  const { client } = await signedInAt(server, '/account', email);
  const response = await client.request('/account/profile', {
    form: { _csrf: 'forged', name: 'Mallory', picture: PICTURE },
  });
  t.is(response.status, 403);
  t.is((await accountByEmail(server, email)).name, null);
});

test('saving the profile unchanged records nothing in the audit trail', async (t) => {
  const server = await startTestServer(t);
  const email = 'unchanged@example.com';
  const { client, html } = await signedInAt(server, '/account', email);
  await submitForm(client, html, '/account/profile', { name: 'Same', picture: '' });
  await submitForm(client, html, '/account/profile', { name: 'Same', picture: '' });
  const events = await server.app.services.audit.recentFor((await accountByEmail(server, email)).id);
  t.is(events.filter((event) => event.event === 'profile_updated').length, 1);
});
