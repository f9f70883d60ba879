import test, { type ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { latestCode, outboxMessages } from '../helpers/outbox.ts';
import { csrfToken, formAction } from '../helpers/page-client.ts';
import { testClock } from '../helpers/clock.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { askForCode, finishAtRelyingParty, openSignInPage, otherThan, submitCode } from '../helpers/sign-in-pages.ts';
import { startTwilioStandIn, type TwilioStandIn } from '../helpers/twilio-stand-in.ts';

// +1 415 555 2671 is a valid San Francisco number in libphonenumber's metadata (and nobody's phone).
const PHONE = '+14155552671';

async function withTwilio(t: ExecutionContext, env: Record<string, string> = {}, from?: string) {
  const twilio = await startTwilioStandIn(t, from ? { from } : {});
  // Frozen: the "too early" resend must be too early however long the machine takes between requests.
  const server = await startTestServer(t, { env: { ...twilio.env, ...env }, clock: testClock({ frozen: true }) });
  return { twilio, server };
}

async function accounts(server: TestServer) {
  return server.app.services.db.selectFrom('accounts').selectAll().execute();
}

/** Asks for a code for `typed` and returns the code page and the code the stand-in received. */
async function codePage(server: TestServer, twilio: TwilioStandIn, typed = PHONE, scope?: string) {
  const page = await openSignInPage(server, scope ? { scope } : {});
  const asked = await askForCode(page.client, page.html, typed);
  if (asked.status !== 303) throw new Error(`asking for a code answered ${asked.status}`);
  return { page, html: asked.html, code: twilio.latestCode(PHONE) };
}

test('a phone number typed with spaces, dashes and parentheses gets a text at its E.164 form and signs in with sms at 1fa', async (t) => {
  const { twilio, server } = await withTwilio(t);
  const page = await openSignInPage(server, { scope: 'openid phone' });
  t.true(page.html.includes('Email address or phone number'));
  t.true(page.html.includes('autocomplete="username webauthn"'), 'the field offers passkeys in the browser autofill');

  const asked = await askForCode(page.client, page.html, ' +1 (415) 555-2671 ');
  t.is(asked.status, 303);
  t.true(asked.html.includes('Check your phone'));
  t.true(
    asked.html.includes(
      'We texted a 6-digit code to <strong class="phone-number">+1 415 555 2671</strong>. It expires in 10 minutes.',
    ),
  );
  t.true(asked.html.includes('autocomplete="one-time-code"'));

  t.is(twilio.messages.length, 1);
  const [sms] = twilio.messages;
  t.is(sms!.to, PHONE);
  t.is(sms!.from, '+15005550006');
  const code = twilio.latestCode(PHONE);
  // The origin-bound line (WICG sms-one-time-codes) binds the code to this site for autofill.
  t.true(sms!.body.endsWith(`\n\n@127.0.0.1 #${code}`));
  t.true(sms!.body.startsWith(`${code} is your FairyID sign-in code. It expires in 10 minutes.`));

  const signedIn = await submitCode(page.client, asked.html, code);
  t.is(signedIn.response.status, 303);
  const tokens = await finishAtRelyingParty(page, signedIn.response);
  const claims = tokens.claims()!;
  t.deepEqual(claims.amr, ['sms']);
  t.is(claims.acr, '1fa');
  const userinfo = await oidc.fetchUserInfo(page.config, tokens.access_token, claims.sub);
  t.is(userinfo.phone_number, PHONE);
  t.true(userinfo.phone_number_verified);

  const [account, ...others] = await accounts(server);
  t.is(others.length, 0);
  t.is(account!.phone_number, PHONE);
  t.true(account!.phone_number_verified);
  t.is(account!.email, null);
  t.is(await server.app.services.ledger.balance('person', account!.id), 25, 'a new account gets its sign-up DUST');
  t.deepEqual(await outboxMessages(server.url), [], 'with Twilio set, nothing goes to the development outbox');
});

test('the same number written two ways is one account', async (t) => {
  const { twilio, server } = await withTwilio(t);
  const subjects: string[] = [];
  for (const typed of ['+14155552671', '+1 415-555-2671']) {
    const page = await openSignInPage(server);
    const asked = await askForCode(page.client, page.html, typed);
    const signedIn = await submitCode(page.client, asked.html, twilio.latestCode(PHONE));
    subjects.push((await finishAtRelyingParty(page, signedIn.response)).claims()!.sub);
  }
  t.is(subjects[0], subjects[1]);
  t.is((await accounts(server)).length, 1);
});

test('a phone number that is not valid re-renders the form with a message that says what to fix, and texts nothing', async (t) => {
  const { twilio, server } = await withTwilio(t);
  const page = await openSignInPage(server);
  const cases: [string, string][] = [
    ['415 555 2671', 'Start the phone number with + and its country code, like +1 415 555 2671.'],
    ['+1 415 555', 'That phone number is not valid. Check the country code and the digits.'],
    ['+999 1234 5678', 'That phone number is not valid. Check the country code and the digits.'],
    [
      'ada',
      'Enter an email address, like name@example.com, or a phone number with its country code, like +1 415 555 2671.',
    ],
    [
      '+1 415 555 2671 ext. 9',
      'Enter an email address, like name@example.com, or a phone number with its country code',
    ],
  ];
  for (const [typed, message] of cases) {
    const refused = await askForCode(page.client, page.html, typed);
    t.is(refused.status, 400, typed);
    t.true(refused.html.includes(message), typed);
    t.true(refused.html.includes(`value="${typed}"`), 'what the person typed is kept');
  }
  t.deepEqual(twilio.messages, []);
  t.deepEqual(await accounts(server), []);
});

test('SMS codes follow the email rules: wrong codes count down, the resend waits, a new code replaces the old, and failures are audited without the code', async (t) => {
  const { twilio, server } = await withTwilio(t, { OTP_RESEND_SECONDS: '2' });
  const { page, html, code: first } = await codePage(server, twilio);

  const wrong = await submitCode(page.client, html, otherThan(first));
  t.is(wrong.response.status, 400);
  t.true(wrong.html.includes('That code is not right. 4 tries left.'));
  t.true(wrong.html.includes('Check your phone'));
  const malformed = await submitCode(page.client, html, '12ab');
  t.is(malformed.response.status, 400);
  t.true(malformed.html.includes('Enter the 6 digits from the text message.'));

  const early = await page.client.request(formAction(html, '/resend'), { form: { _csrf: csrfToken(html) } });
  t.is(early.status, 429);
  t.truthy(early.headers.get('retry-after'));
  t.regex(await early.text(), /A code was just sent\. You can ask for a new one in (1 second|2 seconds)\./);
  t.is(twilio.messages.length, 1);

  server.clock.advance(3);
  const resent = await page.client.request(formAction(html, '/resend'), { form: { _csrf: csrfToken(html) } });
  t.is(resent.status, 200);
  t.true((await resent.text()).includes('We sent a new code. Earlier codes no longer work.'));
  t.is(twilio.messages.length, 2);
  const second = twilio.latestCode(PHONE);
  t.not(second, first);
  t.is((await submitCode(page.client, html, first)).response.status, 400, 'the replaced code no longer works');
  t.is((await submitCode(page.client, html, second)).response.status, 303);

  const events = await server.app.services.db.selectFrom('audit_events').selectAll().orderBy('id').execute();
  const failures = events.filter((event) => event.event === 'sign_in_failed');
  t.is(failures.length, 2);
  t.deepEqual(failures[0]!.detail, { channel: 'sms', reason: 'wrong_code' });
  const success = events.find((event) => event.event === 'sign_in');
  t.is(success?.outcome, 'success');
  t.deepEqual(success?.detail, { method: 'sms', created: true });
  t.truthy(success?.account_id);
  const everything = JSON.stringify(events);
  for (const value of [first, second, otherThan(first)])
    t.false(everything.includes(value), 'no code is ever written to the audit log');
});

test('five wrong SMS codes lock the code, and the right one no longer works', async (t) => {
  const { twilio, server } = await withTwilio(t);
  const { page, html, code } = await codePage(server, twilio);
  for (const left of [4, 3, 2, 1]) {
    t.true(
      (await submitCode(page.client, html, otherThan(code))).html.includes(
        `${left} ${left === 1 ? 'try' : 'tries'} left.`,
      ),
    );
  }
  const fifth = await submitCode(page.client, html, otherThan(code));
  t.is(fifth.response.status, 429);
  t.true(fifth.html.includes('Too many wrong codes. Ask for a new code to try again.'));
  t.true(fifth.html.includes('value="+1 415 555 2671"'), 'the number is filled in to ask again');
  t.is((await submitCode(page.client, html, code)).response.status, 429);
  t.deepEqual(await accounts(server), []);
});

test('a text Twilio refuses, or a Twilio that is down, shows a clear page and the person can try again', async (t) => {
  const { twilio, server } = await withTwilio(t);
  const page = await openSignInPage(server);
  const failures = [
    {
      status: 400,
      code: 21408,
      message: 'Permission to send an SMS has not been enabled for the region indicated by the To number',
    },
    { status: 503, unavailable: true } as const,
  ];
  for (const failure of failures) {
    twilio.failWith(failure);
    const failed = await askForCode(page.client, page.html, PHONE);
    t.is(failed.status, 503);
    t.true(
      failed.html.includes(
        'We could not send the text message just now. Please try again in a minute, or use your email address.',
      ),
    );
    t.true(failed.html.includes('value="+14155552671"'), 'back on the sign-in form, number kept');
    t.false(failed.html.includes('Sign-in code'), 'no code page for a code that was never sent');
  }
  t.deepEqual(twilio.messages, []);

  twilio.recover();
  const retried = await askForCode(page.client, page.html, PHONE);
  t.is(retried.status, 303, 'a failed delivery does not hold back the next try');
  t.is(twilio.messages.length, 1);
});

test('Twilio refuses a wrong auth token, and the person sees the failure page', async (t) => {
  const twilio = await startTwilioStandIn(t);
  const server = await startTestServer(t, {
    env: { ...twilio.env, TWILIO_AUTH_TOKEN: 'not-the-real-token-0123456789' },
  });
  const page = await openSignInPage(server);
  const failed = await askForCode(page.client, page.html, PHONE);
  t.is(failed.status, 503);
  t.true(failed.html.includes('We could not send the text message just now.'));
  t.is(twilio.unauthorized(), 1, 'the request reached Twilio, which refused its credentials');
  t.deepEqual(twilio.messages, []);
});

test('a Messaging Service SID in TWILIO_FROM sends through that service', async (t) => {
  const service = `MG${'0123456789abcdef'.repeat(2)}`;
  const { twilio, server } = await withTwilio(t, {}, service);
  await codePage(server, twilio);
  t.is(twilio.messages[0]!.messagingServiceSid, service);
  t.is(twilio.messages[0]!.from, undefined);
});

test('without Twilio settings the development outbox holds the text, and its code signs in', async (t) => {
  const server = await startTestServer(t);
  const page = await openSignInPage(server);
  const asked = await askForCode(page.client, page.html, '+44 20 7946 0958');
  t.is(asked.status, 303);
  const [message] = await outboxMessages(server.url);
  t.like(message, { channel: 'sms', to: '+442079460958' } as object);
  const code = await latestCode(server.url, '+442079460958');
  t.true(message!.text.endsWith(`@127.0.0.1 #${code}`));
  const signedIn = await submitCode(page.client, asked.html, code);
  t.deepEqual((await finishAtRelyingParty(page, signedIn.response)).claims()!.amr, ['sms']);
});

test('with SMTP but without Twilio there is no way to deliver a text, so only an email address is asked for', async (t) => {
  // Nothing listens on port 9 (discard): no email is sent in this test, and the outbox does not exist.
  const server = await startTestServer(t, { env: { SMTP_URL: 'smtp://127.0.0.1:9' } });
  const page = await openSignInPage(server);
  t.true(page.html.includes('<label for="identifier">Email address</label>'));
  t.false(page.html.includes('phone number'));
  const refused = await askForCode(page.client, page.html, PHONE);
  t.is(refused.status, 400);
  t.true(refused.html.includes('Enter a valid email address, like name@example.com.'));
});
