import test, { type ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { latestCode, outboxMessages } from '../helpers/outbox.ts';
import { PageClient, csrfToken, formAction } from '../helpers/page-client.ts';
import { RP_REDIRECT, discover, pkcePair, registerClient } from '../helpers/relying-party.ts';
import { testClock } from '../helpers/clock.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const EMAIL = 'ada@example.com';

/** Rows in the accounts table: a sign-in that did not happen must leave it as it was. */
async function accountCount(server: TestServer): Promise<number> {
  const { db } = server.app.services;
  const row = await db.selectFrom('accounts').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Opens an authorization request in a fresh browser and returns the sign-in page it lands on. */
async function openSignIn(server: TestServer, client = new PageClient(server.url)) {
  const registered = await registerClient(server.app);
  const config = await discover(server.url, registered.clientId, registered.clientSecret);
  const { challenge } = await pkcePair();
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid email',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const { response, url } = await client.follow(authorizationUrl.href);
  const html = await response.text();
  if (response.status !== 200 || !html.includes('Email address'))
    throw new Error(`expected the sign-in page, got ${response.status}`);
  return { client, html, url };
}

/**
 * Starts a server, asks for a code for EMAIL and returns the code page and the code that was sent.
 * The server's clock stands still between the test's moves: the windows here are a second or two,
 * which a busy machine would otherwise spend before the test's next request (a resend let through early).
 */
async function codePage(t: ExecutionContext, env: Record<string, string> = {}) {
  const server = await startTestServer(t, { env, clock: testClock({ frozen: true }) });
  const { client, html: login } = await openSignIn(server);
  const { response, url } = await client.follow(formAction(login, '/email'), {
    form: { _csrf: csrfToken(login), email: EMAIL },
  });
  t.is(response.status, 200);
  t.regex(url.pathname, /^\/interaction\/[^/]+\/code$/);
  const html = await response.text();
  t.true(html.includes('Sign-in code'));
  return { server, client, html, code: await latestCode(server.url, EMAIL) };
}

async function submitCode(client: PageClient, html: string, code: string) {
  const response = await client.request(formAction(html, '/code'), { form: { _csrf: csrfToken(html), code } });
  return { response, html: await response.text() };
}

/** A six-digit code that is certainly not `code`. */
function otherThan(code: string) {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}

function isSignInRedirect(t: ExecutionContext, response: Response) {
  t.is(response.status, 303);
  t.regex(
    response.headers.get('location') ?? '',
    /\/auth\/[^/]+$/,
    'the interaction resumes at the authorization endpoint',
  );
}

test('a wrong code says so, tells how many tries are left and creates no account', async (t) => {
  const { server, client, html, code } = await codePage(t);
  const wrong = await submitCode(client, html, otherThan(code));
  t.is(wrong.response.status, 400);
  t.true(wrong.html.includes('That code is not right. 4 tries left.'));
  t.true(wrong.html.includes('Sign-in code'), 'the person stays on the code page');
  t.is(await accountCount(server), 0);

  const second = await submitCode(client, wrong.html, otherThan(code));
  t.true(second.html.includes('3 tries left.'));
  t.is(await accountCount(server), 0);
});

test('five wrong codes lock the code: the right one no longer works and no account exists', async (t) => {
  const { server, client, html, code } = await codePage(t);
  let page = html;
  for (const left of [4, 3, 2, 1]) {
    const wrong = await submitCode(client, page, otherThan(code));
    t.is(wrong.response.status, 400);
    t.true(wrong.html.includes(`${left} ${left === 1 ? 'try' : 'tries'} left.`));
    page = wrong.html;
  }
  const fifth = await submitCode(client, page, otherThan(code));
  t.is(fifth.response.status, 429);
  t.true(fifth.html.includes('Too many wrong codes. Ask for a new code to try again.'));
  t.true(fifth.html.includes('Email address'), 'the person is sent back to ask for a new code');

  const right = await submitCode(client, page, code);
  t.is(right.response.status, 429, 'the right code after the lock is still refused');
  t.is(right.response.headers.get('location'), null);
  t.true(right.html.includes('Too many wrong codes. Ask for a new code to try again.'));
  t.is(await accountCount(server), 0);
});

test('an expired code is refused with a message a person can act on', async (t) => {
  // A minute, not a second: the store also drops the code after its lifetime in real time, and a busy
  // machine can spend a second before the code page is even shown.
  const { server, client, html, code } = await codePage(t, { OTP_TTL: '60' });
  server.clock.advance(61);
  const late = await submitCode(client, html, code);
  t.is(late.response.status, 400);
  t.is(late.response.headers.get('location'), null);
  t.true(late.html.includes('That code has expired. Ask for a new one.'));
  t.true(late.html.includes('Email address'), 'the page offers to send a new code');
  t.is(await accountCount(server), 0);
});

test('a code is single use: posting it again for the same sign-in is refused and signs in only once', async (t) => {
  const { server, client, html, code } = await codePage(t);
  const first = await submitCode(client, html, code);
  isSignInRedirect(t, first.response);
  t.is(await accountCount(server), 1);

  // The browser has not followed the redirect yet, so the interaction is still open: only the code stops it.
  const replay = await submitCode(client, html, code);
  t.is(replay.response.status, 400);
  t.is(replay.response.headers.get('location'), null);
  t.true(replay.html.includes('That code has expired. Ask for a new one.'));

  // The first submission still counts: it leads on to consent, for the one account.
  const { response, url } = await client.follow(first.response.headers.get('location')!);
  t.is(response.status, 200);
  t.regex(url.pathname, /^\/interaction\/[^/]+$/);
  t.true((await response.text()).includes('Allow access?'));
  t.is(await accountCount(server), 1);
});

test('of two concurrent submissions of the right code exactly one signs in', async (t) => {
  const { server, client, html, code } = await codePage(t);
  const results = await Promise.all([submitCode(client, html, code), submitCode(client, html, code)]);
  const statuses = results.map((result) => result.response.status).sort();
  t.deepEqual(statuses, [303, 400]);
  t.is(await accountCount(server), 1);
});

test("a POST without the CSRF field, or with another browser's, gets the 403 page and sends and creates nothing", async (t) => {
  const server = await startTestServer(t);
  const { client, html: login } = await openSignIn(server);
  const { html: strangersPage } = await openSignIn(server, new PageClient(server.url));
  const strangersToken = csrfToken(strangersPage);
  t.not(strangersToken, csrfToken(login));
  const emailAction = formAction(login, '/email');

  const forged: Record<string, string>[] = [
    { email: EMAIL },
    { email: EMAIL, _csrf: strangersToken },
    { email: EMAIL, _csrf: 'x' },
  ];
  for (const form of forged) {
    const response = await client.request(emailAction, { form });
    t.is(response.status, 403);
    t.regex(response.headers.get('content-type') ?? '', /^text\/html/);
    const page = await response.text();
    t.true(page.includes('This form expired or was sent from another page. Go back, reload and try again.'));
    t.false(page.includes('Error:'), 'no internals on the page');
  }
  t.deepEqual(await outboxMessages(server.url), []);

  // With a real code in hand, a forged code submission still creates nothing.
  const sent = await client.follow(emailAction, { form: { _csrf: csrfToken(login), email: EMAIL } });
  const codeHtml = await sent.response.text();
  const code = await latestCode(server.url, EMAIL);
  for (const form of [{ code }, { code, _csrf: strangersToken }] as Record<string, string>[]) {
    const response = await client.request(formAction(codeHtml, '/code'), { form });
    t.is(response.status, 403);
  }
  t.is(await accountCount(server), 0);

  // The refusals were about the form, not the code: with the right token the same code signs in.
  isSignInRedirect(t, (await submitCode(client, codeHtml, code)).response);
  t.is(await accountCount(server), 1);
});

test('a new code can be asked for only after the resend window, and it replaces the old one', async (t) => {
  const { server, client, html, code: first } = await codePage(t, { OTP_RESEND_SECONDS: '2' });
  const resendAction = formAction(html, '/resend');

  const early = await client.request(resendAction, { form: { _csrf: csrfToken(html) } });
  t.is(early.status, 429);
  t.regex(await early.text(), /A code was just sent\. You can ask for a new one in (1 second|2 seconds)\./);
  t.is((await outboxMessages(server.url)).length, 1, 'no second email');

  server.clock.advance(3);
  const later = await client.request(resendAction, { form: { _csrf: csrfToken(html) } });
  t.is(later.status, 200);
  const page = await later.text();
  t.true(page.includes('We sent a new code. Earlier codes no longer work.'));
  t.is((await outboxMessages(server.url)).length, 2);
  const second = await latestCode(server.url, EMAIL);
  // Codes are random: one chance in a million that the new code equals the old one.
  t.not(second, first);

  const old = await submitCode(client, page, first);
  t.is(old.response.status, 400);
  t.true(old.html.includes('That code is not right.'));
  isSignInRedirect(t, (await submitCode(client, old.html, second)).response);
  t.is(await accountCount(server), 1);
});

test('an invalid email address re-renders the form with a message and sends nothing', async (t) => {
  const server = await startTestServer(t);
  const { client, html } = await openSignIn(server);
  const response = await client.request(formAction(html, '/email'), {
    form: { _csrf: csrfToken(html), email: 'ada@"><b>x' },
  });
  t.is(response.status, 400);
  const page = await response.text();
  t.true(page.includes('Enter a valid email address, like name@example.com.'));
  t.true(page.includes('value="ada@&quot;&gt;&lt;b&gt;x"'), 'what the person typed is kept, escaped');
  t.false(page.includes('<b>x'));
  t.true(page.includes('Send me a code'));
  t.deepEqual(await outboxMessages(server.url), []);
  t.is(await accountCount(server), 0);
});
