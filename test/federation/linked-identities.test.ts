import test from 'ava';
import { land, redeem, submit } from '../helpers/authorization.ts';
import { accountByEmail, signedInAt, submitForm } from '../helpers/account-pages.ts';
import { federationSetUp } from '../helpers/federation.ts';
import { csrfToken, formAction, PageClient } from '../helpers/page-client.ts';
import { continueWith } from '../helpers/upstream-provider.ts';

const PAGE = '/account/providers';

test('the account page lists linked providers, unlinks one after a confirm step, and refuses to unlink the last way to sign in', async (t) => {
  const { server, acme, google } = await federationSetUp(t);

  // Someone who signs in only with Acme SSO: an account without an email address.
  acme.state.person = { sub: 'acme-only', email: 'only@acme.example', email_verified: true, name: 'Olly' };
  const olly = new PageClient(server.url);
  const signIn = await land(olly, PAGE);
  const ollyPage = await continueWith(olly, signIn, 'acme');
  t.is(ollyPage.url.pathname, PAGE);
  t.regex(ollyPage.html, /<h2 class="app-name">Acme SSO<\/h2>/);
  t.regex(ollyPage.html, /Olly · only@acme.example/);
  const refused = await submitForm(olly, ollyPage.html, `${PAGE}/unlink`, {
    identity: /name="identity" value="([^"]+)"/.exec(ollyPage.html)?.[1] ?? '',
  });
  t.is(refused.response.status, 409, 'refused at the first press: there is nothing to confirm');
  t.regex(refused.html, /This is the only way you sign in/);
  t.regex(refused.html, /Acme SSO/);
  const insisting = await submitForm(olly, ollyPage.html, `${PAGE}/unlink`, {
    identity: /name="identity" value="([^"]+)"/.exec(ollyPage.html)?.[1] ?? '',
    confirm: 'yes',
  });
  t.is(insisting.response.status, 409, 'a confirmed press is refused alike');

  // Someone with an email address who also linked Google can unlink it.
  google.state.person = { sub: 'google-rae', email: 'rae@example.com', email_verified: true };
  const { client: rae } = await signedInAt(server, '/account', 'rae@example.com');
  const raeSignIn = await land(rae, `${PAGE}`);
  t.regex(raeSignIn.html, /No sign-in provider is linked/);
  // Signing in again through Google (a fresh sign-in of the same browser) links it by its verified address.
  const fresh = new PageClient(server.url);
  const googleSignIn = await land(fresh, PAGE);
  const raePage = await continueWith(fresh, googleSignIn, 'google');
  t.regex(raePage.html, /<h2 class="app-name">Google<\/h2>/);
  const identity = /name="identity" value="([^"]+)"/.exec(raePage.html)?.[1] ?? '';

  // Another person's identity is not theirs to unlink, asked or confirmed.
  const stranger = await submitForm(olly, ollyPage.html, `${PAGE}/unlink`, { identity });
  t.is(stranger.response.status, 404);
  t.notRegex(stranger.html, /rae@example\.com/, 'nor is it named to them');
  const confirmedStranger = await submitForm(olly, ollyPage.html, `${PAGE}/unlink`, { identity, confirm: 'yes' });
  t.is(confirmedStranger.response.status, 404);

  const asked = await submitForm(fresh, raePage.html, `${PAGE}/unlink`, { identity });
  t.is(asked.response.status, 200, 'the first press asks to confirm');
  t.regex(asked.html, /<h1 id="page-title">Unlink this account\?<\/h1>/);
  t.regex(asked.html, /<strong>Google · rae@example\.com<\/strong> will no longer sign you in/);
  t.regex(asked.html, /<a class="button" href="\/account\/providers">Cancel, keep it linked<\/a>/);
  const inFrench = await submitForm(fresh, raePage.html, `${PAGE}/unlink`, { identity }, { 'accept-language': 'fr' });
  t.regex(inFrench.html, /<h1 id="page-title">Dissocier ce compte\u202f\?<\/h1>/);
  t.regex(inFrench.html, />Annuler, le garder associé<\/a>/);
  // Cancelling is a link back to the page: the identity is still there.
  const kept = await land(fresh, `${PAGE}`);
  t.regex(kept.html, /<h2 class="app-name">Google<\/h2>/, 'nothing is unlinked before the confirmation');

  const unlinked = await submitForm(fresh, asked.html, `${PAGE}/unlink`, { identity, confirm: 'yes' });
  t.is(unlinked.response.status, 303);
  const after = await land(fresh, `${PAGE}?done=unlinked`);
  t.regex(after.html, /Unlinked\. That account no longer signs you in here/);
  t.regex(after.html, /No sign-in provider is linked/);
  const events = await server.app.services.db
    .selectFrom('audit_events')
    .select(['event', 'detail'])
    .where('event', 'in', ['identity_linked', 'identity_unlinked'])
    .orderBy('id')
    .execute();
  t.deepEqual(
    events.map((row) => [row.event, (row.detail as { provider?: string }).provider]),
    [
      ['identity_linked', 'google'],
      ['identity_unlinked', 'google'],
    ],
  );
  t.is(raeSignIn.response.status, 200);
});

/** Presses "Link <provider>" on the account page, goes through the upstream and back; returns where it lands. */
async function linkFromAccountPage(client: PageClient, page: { html: string; url: URL }, provider: string) {
  const started = await client.follow(new URL(formAction(page.html, `/link/${provider}`), page.url).href, {
    form: { _csrf: csrfToken(page.html) },
  });
  const { url: callback } = await new PageClient(started.url.origin).follow(started.url.href);
  return land(client, callback.href);
}

test('a signed-in person links another provider from the account page, and signs in with it afterwards', async (t) => {
  const { server, acme, config, signInPage } = await federationSetUp(t);
  // Someone else already signs in with one Acme identity.
  acme.state.person = { sub: 'acme-olly', email: 'olly@acme.example', email_verified: true };
  const olly = new PageClient(server.url);
  await continueWith(olly, await land(olly, PAGE), 'acme');

  const { client: kim, html } = await signedInAt(server, PAGE, 'kim@example.com');
  const kimAccount = await accountByEmail(server, 'kim@example.com');
  const page = { html, url: new URL(PAGE, server.url) };
  t.regex(html, /Link Acme SSO/);

  // An identity that signs in to another account stays there.
  const taken = await linkFromAccountPage(kim, page, 'acme');
  t.is(taken.response.status, 409);
  t.regex(taken.html, /That Acme SSO account already signs in to another FairyID account/);

  acme.state.person = { sub: 'acme-kim', email: 'kim@acme.example', email_verified: false, name: 'Kim' };
  // An answer carried to another signed-in browser links nothing there.
  const started = await kim.follow(new URL(formAction(taken.html, '/link/acme'), taken.url).href, {
    form: { _csrf: csrfToken(taken.html) },
  });
  const { url: stolen } = await new PageClient(started.url.origin).follow(started.url.href);
  const elsewhere = await land(olly, stolen.href);
  t.is(elsewhere.response.status, 400);
  t.regex(elsewhere.html, /does not belong to a link you started here/);
  t.notRegex(elsewhere.html, /Kim ·/);

  const linked = await linkFromAccountPage(kim, taken, 'acme');
  t.is(linked.url.pathname, PAGE);
  t.regex(linked.html, /Linked\. You can now sign in with it/);
  t.regex(linked.html, /Kim · kim@acme.example/);

  // From now on Acme signs Kim in to this account.
  const signIn = await signInPage();
  const consent = await continueWith(signIn.client, signIn, 'acme');
  const done = await submit(signIn.client, consent, '/confirm');
  t.is((await redeem(config, done.url, signIn.check)).sub, kimAccount.id);
});
