import test from 'ava';
import { accountByEmail, signedInAt } from '../helpers/account-pages.ts';
import { appleSetUp } from '../helpers/apple-stand-in.ts';
import { land, redeem, submit } from '../helpers/authorization.ts';
import { readForm } from '../helpers/html-form.ts';
import { csrfToken, formAction, PageClient } from '../helpers/page-client.ts';

const PAGE = '/account/providers';

test('a person who hides their address at Apple links Apple from the account page through its posted answer', async (t) => {
  const { server, apple, config, signInPage } = await appleSetUp(t);
  const { client: kim, html } = await signedInAt(server, PAGE, 'kim@example.com');
  const account = await accountByEmail(server, 'kim@example.com');
  apple.state.person = { sub: '001234.kkkk.0001', email: 'k1m2@privaterelay.appleid.com', firstName: 'Kim' };

  const started = await kim.follow(new URL(formAction(html, '/link/apple'), server.url).href, {
    form: { _csrf: csrfToken(html) },
  });
  const form = readForm(await (await new PageClient(started.url.origin).request(started.url.href)).text());
  // Apple's POST is cross-site: it carries none of Kim's cookies.
  const posted = await fetch(form.action, {
    method: 'POST',
    body: new URLSearchParams(form.fields),
    redirect: 'manual',
  });
  t.is(posted.status, 303);
  const onward = new URL(String(posted.headers.get('location')), form.action);
  t.is(onward.pathname, `${PAGE}/return`);

  // Another signed-in browser cannot take it.
  const { client: other } = await signedInAt(server, PAGE, 'other@example.com');
  const elsewhere = await land(other, onward.href);
  t.is(elsewhere.response.status, 400);
  t.is(apple.state.tokenRequests, 0);

  const linked = await land(kim, onward.href);
  t.is(linked.url.pathname, PAGE);
  t.regex(linked.html, /Linked\. You can now sign in with it/);
  t.regex(linked.html, /Kim · k1m2@privaterelay\.appleid\.com/);

  // From now on Apple signs Kim in to this account, although the relay address is not Kim's.
  const signIn = await signInPage();
  const appleStart = await signIn.client.follow(formAction(signIn.html, '/federation/start/apple'), {
    form: { _csrf: csrfToken(signIn.html) },
  });
  const again = readForm(await (await new PageClient(appleStart.url.origin).request(appleStart.url.href)).text());
  const postedAgain = await fetch(again.action, {
    method: 'POST',
    body: new URLSearchParams(again.fields),
    redirect: 'manual',
  });
  const consent = await land(signIn.client, new URL(String(postedAgain.headers.get('location')), again.action).href);
  const done = await submit(signIn.client, consent, '/confirm');
  t.is((await redeem(config, done.url, signIn.check)).sub, account.id);
});
