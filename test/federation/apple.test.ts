import test from 'ava';
import { type Authorization, type Landing, land, redeem, submit } from '../helpers/authorization.ts';
import { APPLE_TEAM as TEAM, APPLE_SERVICES_ID as SERVICES_ID, appleSetUp } from '../helpers/apple-stand-in.ts';
import { readForm } from '../helpers/html-form.ts';
import { csrfToken, formAction, PageClient } from '../helpers/page-client.ts';

/** FairyID's "Continue with Apple", then Apple's page, whose form the browser posts back to FairyID. */
async function atApple(signIn: Authorization) {
  const started = await signIn.client.follow(formAction(signIn.html, '/federation/start/apple'), {
    form: { _csrf: csrfToken(signIn.html) },
  });
  const page = await new PageClient(started.url.origin).request(started.url.href);
  return { authorizeUrl: started.url, form: readForm(await page.text()) };
}

/**
 * The cross-site POST as a browser sends it: none of FairyID's SameSite=Lax cookies come with it.
 * Returns FairyID's answer to it (not followed).
 */
function postAnswer(action: string, fields: Record<string, string>) {
  return fetch(action, { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' });
}

/** The whole round trip: Apple's form posted without cookies, then FairyID's redirect followed in the browser. */
async function continueWithApple(signIn: Authorization, at?: Awaited<ReturnType<typeof atApple>>): Promise<Landing> {
  const { form } = at ?? (await atApple(signIn));
  const posted = await postAnswer(form.action, form.fields);
  if (posted.status !== 303) throw new Error(`the callback answered ${posted.status}`);
  return land(signIn.client, new URL(String(posted.headers.get('location')), form.action).href);
}

const signedInSub = async (setUp: Awaited<ReturnType<typeof appleSetUp>>, signIn: Authorization, page: Landing) =>
  (await redeem(setUp.config, (await submit(signIn.client, page, '/confirm')).url, signIn.check)).sub;

test('Apple’s posted answer signs in, with a short-lived ES256 client secret Apple verifies and the name from the first sign-in', async (t) => {
  const setUp = await appleSetUp(t);
  const { server, apple, signInPage } = setUp;
  apple.state.person = {
    sub: '001234.aaaa.0001',
    email: 'x7y8z9@privaterelay.appleid.com',
    firstName: 'Ada',
    lastName: 'Lovelace',
  };
  const first = await signInPage();
  t.regex(first.html, /Continue with Apple/);
  const at = await atApple(first);
  t.is(at.authorizeUrl.searchParams.get('response_mode'), 'form_post');
  t.is(at.authorizeUrl.searchParams.get('scope'), 'name email');
  t.is(at.authorizeUrl.searchParams.get('code_challenge_method'), 'S256');
  t.truthy(at.authorizeUrl.searchParams.get('nonce'));
  t.truthy(at.form.fields.user);
  const consent = await continueWithApple(first, at);
  const sub = await signedInSub(setUp, first, consent);
  const [secret] = apple.state.clientSecrets;
  t.like(secret, { iss: TEAM, sub: SERVICES_ID, aud: 'https://appleid.apple.com' });
  t.true(Number(secret?.exp) - Number(secret?.iat) <= 300);
  t.is(apple.state.refusedSecrets, 0);
  const [linked] = await server.app.services.federation.linkedTo(sub);
  t.is(linked?.display_name, 'Ada Lovelace');
  // A relay address is a verified address: the new account takes it.
  t.is((await server.app.services.accounts.findById(sub))?.email, 'x7y8z9@privaterelay.appleid.com');

  // Apple sends no name the second time: the first one stays.
  const second = await signInPage();
  t.is(await signedInSub(setUp, second, await continueWithApple(second)), sub);
  t.is((await server.app.services.federation.linkedTo(sub))[0]?.display_name, 'Ada Lovelace');
});

test('a private-relay address links only to the account that signs in with that very address', async (t) => {
  const setUp = await appleSetUp(t);
  const { server, apple, signInPage } = setUp;
  const { accounts } = server.app.services;
  const real = (await accounts.signInWithVerifiedEmail('grace@example.com')).account;
  const relayHolder = (await accounts.signInWithVerifiedEmail('abc123@privaterelay.appleid.com')).account;

  apple.state.person = { sub: '001234.bbbb.0001', email: 'abc123@privaterelay.appleid.com' };
  const relay = await signInPage();
  t.is(await signedInSub(setUp, relay, await continueWithApple(relay)), relayHolder.id);

  // Grace hides her address from this app: the relay never matches her real one.
  apple.state.person = { sub: '001234.cccc.0001', email: 'zz99@privaterelay.appleid.com' };
  const hidden = await signInPage();
  const hiddenSub = await signedInSub(setUp, hidden, await continueWithApple(hidden));
  t.not(hiddenSub, real.id);
  t.not(hiddenSub, relayHolder.id);

  // Shared, her real address is verified by Apple and links at once.
  apple.state.person = { sub: '001234.dddd.0001', email: 'Grace@Example.com' };
  const shared = await signInPage();
  t.is(await signedInSub(setUp, shared, await continueWithApple(shared)), real.id);
});

test('a client secret Apple refuses (expired by Apple’s clock) ends on a clear page', async (t) => {
  const { apple, signInPage } = await appleSetUp(t);
  apple.state.now = () => Date.now() + 10 * 60_000;
  const signIn = await signInPage();
  const page = await continueWithApple(signIn);
  t.is(page.response.status, 400);
  t.regex(page.html, /Apple could not confirm who you are, so you are not signed in/);
  t.is(apple.state.refusedSecrets, 1);
  const uid = signIn.url.pathname.split('/')[2];
  t.true(page.html.includes(`href="/interaction/${uid}"`));
});

test('a person who cancels at Apple ends on a page that offers another way', async (t) => {
  const { apple, signInPage } = await appleSetUp(t);
  apple.state.cancel = true;
  const signIn = await signInPage();
  const page = await continueWithApple(signIn);
  t.is(page.response.status, 400);
  t.regex(page.html, /You did not allow signing in with Apple/);
  t.is(apple.state.tokenRequests, 0);
});

test('a posted answer with an unknown state, in a query, replayed, or taken to another browser is refused before its code is redeemed', async (t) => {
  const setUp = await appleSetUp(t);
  const { server, apple, signInPage } = setUp;
  apple.state.person = { sub: '001234.eeee.0001' };
  const signIn = await signInPage();
  const { form } = await atApple(signIn);

  const unknown = await postAnswer(form.action, { ...form.fields, state: 'not-a-state-we-sent' });
  t.is(unknown.status, 400);
  t.regex(await unknown.text(), /does not belong to a sign-in in progress/);

  // Apple posts its answers: the same answer in a query is not Apple's, and uses nothing up.
  const query = new URL(form.action);
  for (const [name, value] of Object.entries(form.fields)) query.searchParams.set(name, value);
  const inQuery = await land(signIn.client, query.href);
  t.is(inQuery.response.status, 400);

  // Taken to another browser: that browser has no sign-in to hand it to.
  const posted = await postAnswer(form.action, form.fields);
  t.is(posted.status, 303);
  const onward = new URL(String(posted.headers.get('location')), form.action);
  t.deepEqual([...onward.searchParams.keys()], ['state']);
  const elsewhere = await land(new PageClient(server.url), onward.href);
  t.is(elsewhere.response.status, 400);
  t.is(apple.state.tokenRequests, 0);

  // Posted twice: the first answer stands, the second is refused.
  const twice = await postAnswer(form.action, { ...form.fields, code: 'another-code' });
  t.is(twice.status, 400);

  // The browser that asked still signs in with it, once.
  const consent = await land(signIn.client, onward.href);
  await signedInSub(setUp, signIn, consent);
  t.is(apple.state.tokenRequests, 1);
  const replayed = await postAnswer(form.action, form.fields);
  t.is(replayed.status, 400);
  t.is(apple.state.tokenRequests, 1);
});
