import test from 'ava';
import { authorize, land, passEmailCode, redeem, submit, type Landing } from '../helpers/authorization.ts';
import * as oidc from 'openid-client';
import { accountByEmail, signedInAt } from '../helpers/account-pages.ts';
import { openCompleteVerificationUri } from '../helpers/device-approval.ts';
import { readForm } from '../helpers/html-form.ts';
import { latestCode } from '../helpers/outbox.ts';
import type { PageClient } from '../helpers/page-client.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';

/** oidc-provider ends the previous person's session before another signs in: its auto-submitted form, sent. */
async function throughSessionSwitch(client: PageClient, landing: Landing) {
  if (!landing.html.includes('/session/end/confirm')) return landing;
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(landing.html)![1]!;
  return land(client, /action="([^"]+)"/.exec(landing.html)![1]!, { xsrf, logout: 'yes' });
}

test('the sign-in page offers "Continue as" the last identifier on this browser, and "Use another account" clears it', async (t) => {
  const server = await startTestServer(t);
  const { clientId, clientSecret } = await registerClient(server.app, { firstParty: true });
  const config = await discover(server.url, clientId, clientSecret);
  const email = 'alice-remembered@example.com';

  const first = await authorize(server, config);
  t.false(first.html.includes('Continue as'), 'a new browser is offered nothing');
  await redeem(config, (await passEmailCode(server, first.client, first, email)).url, first.check);

  const again = await authorize(server, config, { prompt: 'login' }, first.client);
  t.regex(again.html, new RegExp(`Continue as ${email.replace('.', '\\.')}`));
  t.regex(again.html, /Use another account/);
  // "Continue as" sends a code to that address straight away.
  const codePage = await submit(first.client, again, '/email', { email }); // the form's hidden field
  t.regex(codePage.html, new RegExp(`sent a 6-digit code to <strong>${email.replace('.', '\\.')}</strong>`));
  const signedIn = await submit(first.client, codePage, '/code', { code: await latestCode(server.url, email) });
  t.is((await redeem(config, signedIn.url, again.check)).acr, '1fa');

  const another = await authorize(server, config, { prompt: 'login' }, first.client);
  const blank = await land(first.client, `${another.url.pathname}?another=1`);
  t.false(blank.html.includes('Continue as'));
  t.regex(blank.html, /id="identifier"/);
  const later = await land(first.client, another.url.pathname);
  t.false(later.html.includes('Continue as'), 'the identifier is forgotten, not just hidden once');

  // Another browser never sees it.
  const other = await authorize(server, config);
  t.false(other.html.includes(email));
});

test('"Not you? Use another account" on the consent page starts the sign-in again for someone else', async (t) => {
  const server = await startTestServer(t);
  const { clientId, clientSecret } = await registerClient(server.app, { name: 'Pixie Notes' });
  const config = await discover(server.url, clientId, clientSecret);
  const flow = await authorize(server, config, { scope: 'openid email' });
  const consent = await passEmailCode(server, flow.client, flow, 'not-me@example.com');
  t.regex(consent.html, /Signed in as <strong>not-me@example\.com<\/strong>\. Not you\?/);

  const signIn = await submit(flow.client, consent, '/another-account');
  t.regex(signIn.html, /id="identifier"/, 'a blank sign-in page');
  t.false(signIn.html.includes('Continue as'));
  const codePage = await submit(flow.client, signIn, '/email', { email: 'the-real-me@example.com' });
  const next = await throughSessionSwitch(
    flow.client,
    await submit(flow.client, codePage, '/code', { code: await latestCode(server.url, 'the-real-me@example.com') }),
  );
  t.regex(next.html, /Signed in as <strong>the-real-me@example\.com<\/strong>/);
  const allowed = await submit(flow.client, next, '/confirm');
  const claims = await redeem(config, allowed.url, flow.check);
  const realMe = await accountByEmail(server, 'the-real-me@example.com');
  t.is(claims.sub, realMe.id, 'the app gets the person who signed in second, with its own state');
});

test('the device confirmation page says which account is signed in, and "Use another account" signs it out first', async (t) => {
  const server = await startTestServer(t);
  const config = await discover(server.url, 'fairy-cli');
  const { client: browser } = await signedInAt(server, '/account', 'device-owner@example.com');
  const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid', resource: `${server.url}/api` });

  const confirmPage = await openCompleteVerificationUri(browser, device);
  const html = await confirmPage.text();
  t.regex(html, /The device will be signed in as <strong>device-owner@example\.com<\/strong>\. Not you\?/);
  const form = readForm(html, 'device-account-switch');
  t.is(form.action, '/device-account/switch');

  // Without the page's CSRF token, nobody is signed out.
  const forged = await browser.request(form.action, { form: { user_code: device.user_code } });
  t.is(forged.status, 403);
  t.is((await browser.request('/account')).status, 200, 'still signed in');

  const switched = await browser.request(form.action, { form: form.fields });
  t.is(switched.status, 303);
  t.regex(switched.headers.get('location')!, new RegExp(`/device\\?user_code=${device.user_code}`));
  t.not((await browser.request('/account')).status, 200, 'this browser is signed out');
  // The device is then confirmed by whoever signs in next.
  const again = await browser.request(switched.headers.get('location')!);
  t.regex(await again.text(), new RegExp(device.user_code));
});
