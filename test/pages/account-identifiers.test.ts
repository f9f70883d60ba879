import test from 'ava';
import { accountByEmail, signedInAt, submitForm } from '../helpers/account-pages.ts';
import { latestCode, outboxMessages } from '../helpers/outbox.ts';
import { csrfToken, type PageClient } from '../helpers/page-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { otherThan } from '../helpers/sign-in-pages.ts';

// +1 415 555 2671 is a valid San Francisco number in libphonenumber's metadata (and nobody's phone).
const PHONE = '+14155552671';

/** Asks for a change to `typed` from the change page `html`; returns the confirmation page. */
async function askToChange(client: PageClient, html: string, kind: 'email' | 'phone', typed: string) {
  const asked = await submitForm(client, html, `/account/${kind}`, { identifier: typed });
  if (asked.response.status !== 303)
    throw new Error(`asking for a code answered ${asked.response.status}: ${asked.html.slice(0, 300)}`);
  const page = await client.request(asked.response.headers.get('location')!);
  return page.text();
}

async function auditOf(server: TestServer, accountId: string, event: string) {
  return (await server.app.services.audit.recentFor(accountId)).filter((row) => row.event === event);
}

test('changing the email sends a code to the new address, and once confirmed the person signs in with it', async (t) => {
  const server = await startTestServer(t);
  const before = 'old-address@example.com';
  const after = 'new-address@example.com';
  const { client, html } = await signedInAt(server, '/account/email', before);
  t.regex(html, /<h1 id="page-title">Change your email<\/h1>/);
  t.regex(html, /You sign in with <strong>old-address@example.com<\/strong>/);
  const account = await accountByEmail(server, before);

  const confirm = await askToChange(client, html, 'email', ' New-Address@Example.com ');
  t.regex(confirm, /We sent a 6-digit code to <strong>new-address@example.com<\/strong>/);
  const mail = (await outboxMessages(server.url)).find((message) => message.to === after);
  t.regex(mail!.subject, /is your code to confirm this email for FairyID/);
  t.false(
    (await outboxMessages(server.url)).some(
      (message) => message.to === before && /confirm this email/.test(message.subject),
    ),
  );

  const confirmed = await submitForm(client, confirm, '/account/email/confirm', {
    code: await latestCode(server.url, after),
  });
  t.is(confirmed.response.status, 303);
  t.is(confirmed.response.headers.get('location'), '/account?changed=email');
  t.regex(
    await (await client.request('/account?changed=email')).text(),
    /You now sign in with new-address@example.com\./,
  );

  const changed = await accountByEmail(server, after);
  t.is(changed.id, account.id, 'the same account, with its new address');
  t.true(changed.email_verified);
  const [event] = await auditOf(server, account.id, 'email_changed');
  t.is(event?.outcome, 'success');
  t.deepEqual(event?.detail, { from: 'o***@example.com', to: 'n***@example.com' });

  const notice = (await outboxMessages(server.url)).find(
    (message) => message.to === before && /no longer signs in/.test(message.subject),
  );
  t.truthy(notice, 'the old address is told, so its owner can act if it was not them');
  t.regex(notice!.text, /changed to n\*\*\*@example\.com/);

  const { html: elsewhere } = await signedInAt(server, '/account', after);
  t.true(elsewhere.includes(account.fairyname), 'signing in with the new address reaches the same account');
});

test('an email address another account has is refused once its code is confirmed, and nothing changes', async (t) => {
  const server = await startTestServer(t);
  const taken = 'already-here@example.com';
  await signedInAt(server, '/account', taken);
  const { client, html } = await signedInAt(server, '/account/email', 'wants-it@example.com');
  const account = await accountByEmail(server, 'wants-it@example.com');

  const confirm = await askToChange(client, html, 'email', taken);
  const refused = await submitForm(client, confirm, '/account/email/confirm', {
    code: await latestCode(server.url, taken),
  });
  t.is(refused.response.status, 409);
  t.regex(refused.html, /That email address already belongs to another FairyID account/);
  t.is((await accountByEmail(server, 'wants-it@example.com')).id, account.id, 'the address is unchanged');
  t.not((await accountByEmail(server, taken)).id, account.id, 'the other account keeps its address');
  const [event] = await auditOf(server, account.id, 'email_changed');
  t.is(event?.outcome, 'failure');
  t.deepEqual(event?.detail, { to: 'a***@example.com', reason: 'taken' });
});

test('a wrong code is refused with the tries left, and a code works only in the browser that asked for it', async (t) => {
  const server = await startTestServer(t);
  const email = 'two-tabs@example.com';
  const target = 'target@example.com';
  const first = await signedInAt(server, '/account/email', email);
  const second = await signedInAt(server, '/account/email', email);
  const account = await accountByEmail(server, email);

  const confirm = await askToChange(first.client, first.html, 'email', target);
  const code = await latestCode(server.url, target);
  const wrong = await submitForm(first.client, confirm, '/account/email/confirm', { code: otherThan(code) });
  t.is(wrong.response.status, 400);
  t.regex(wrong.html, /That code is not right\. 4 tries left\./);
  t.deepEqual((await auditOf(server, account.id, 'email_changed'))[0]?.detail, {
    to: 't***@example.com',
    reason: 'wrong_code',
  });

  // The other browser never asked for a code: the right one does nothing there.
  const elsewhere = await submitForm(second.client, second.html, '/account/email/confirm', { code });
  t.is(elsewhere.response.status, 400);
  t.regex(elsewhere.html, /That code has expired\. Ask for a new one\./);
  t.is((await accountByEmail(server, email)).id, account.id);

  const right = await submitForm(first.client, confirm, '/account/email/confirm', { code });
  t.is(right.response.status, 303);
  t.is((await accountByEmail(server, target)).id, account.id);
});

test('wrong codes for a new address count toward its lockout, which is audited and stops further codes to it', async (t) => {
  const server = await startTestServer(t, { env: { LOCKOUT_AFTER_FAILURES: '3/900' } });
  const email = 'guesser@example.com';
  const target = 'locked-target@example.com';
  const { client, html } = await signedInAt(server, '/account/email', email);
  const account = await accountByEmail(server, email);
  const confirm = await askToChange(client, html, 'email', target);
  const code = await latestCode(server.url, target);

  await submitForm(client, confirm, '/account/email/confirm', { code: otherThan(code) });
  await submitForm(client, confirm, '/account/email/confirm', { code: otherThan(code) });
  const locked = await submitForm(client, confirm, '/account/email/confirm', { code: otherThan(code) });
  t.is(locked.response.status, 429);
  t.truthy(locked.response.headers.get('retry-after'));
  t.regex(
    locked.html,
    /Too many wrong codes\. Signing in with this email address is locked for \d+ (?:minutes|seconds?)\./,
  );
  const lockout = (await auditOf(server, account.id, 'lockout'))[0];
  t.is(lockout?.detail?.channel, 'email');

  const again = await submitForm(client, locked.html, '/account/email', { identifier: target });
  t.is(again.response.status, 429, 'no new code goes to the locked address');
  t.is((await accountByEmail(server, email)).id, account.id, 'the address did not change');
});

test('a person without a phone number adds one with a texted code', async (t) => {
  const server = await startTestServer(t);
  const email = 'adds-phone@example.com';
  const { client, html } = await signedInAt(server, '/account/phone', email);
  t.regex(html, /<h1 id="page-title">Add a phone number<\/h1>/);
  t.regex(html, /type="tel"/);

  const confirm = await askToChange(client, html, 'phone', ' +1 (415) 555-2671 ');
  t.regex(confirm, /We texted a 6-digit code to <strong class="phone-number">\+1 415 555 2671<\/strong>/);
  const text = (await outboxMessages(server.url)).find((message) => message.to === PHONE);
  t.regex(text!.text, /is your code to add this phone number to your FairyID account/);

  const confirmed = await submitForm(client, confirm, '/account/phone/confirm', {
    code: await latestCode(server.url, PHONE),
  });
  t.is(confirmed.response.status, 303);
  t.is(confirmed.response.headers.get('location'), '/account?changed=phone');
  const overview = await (await client.request('/account?changed=phone')).text();
  t.regex(overview, /You now sign in with \+1 415 555 2671\./);
  t.regex(overview, /<span class="identifier phone-number">\+1 415 555 2671<\/span>/);

  const account = await accountByEmail(server, email);
  t.is(account.phone_number, PHONE);
  t.true(account.phone_number_verified);
  const [event] = await auditOf(server, account.id, 'phone_changed');
  t.deepEqual(event?.detail, { from: null, to: '+*******2671' });
});

test('addresses that are not valid, or already the person’s own, are refused before any code is sent', async (t) => {
  const server = await startTestServer(t);
  const email = 'careful@example.com';
  const { client, html } = await signedInAt(server, '/account/email', email);
  const sentBefore = (await outboxMessages(server.url)).length;

  const cases: [kind: 'email' | 'phone', typed: string, message: RegExp][] = [
    ['email', 'not-an-address', /Enter a valid email address/],
    ['email', 'Careful@Example.com', /That is already your email address\./],
    ['phone', 'call me', /Enter a phone number with its country code/],
    ['phone', '415 555 2671', /Start the phone number with \+ and its country code/],
    ['phone', '+1 000', /That phone number is not valid/],
  ];
  for (const [kind, typed, message] of cases) {
    const refused = await submitForm(client, html, `/account/${kind}`, { identifier: typed });
    t.is(refused.response.status, 400, typed);
    t.regex(refused.html, message, typed);
    t.true(refused.html.includes(`value="${typed}"`), `"${typed}" stays in the field`);
  }
  t.is((await outboxMessages(server.url)).length, sentBefore, 'no code was sent');
});

test('starting a change needs a recent sign-in: a browser signed in long ago is asked to sign in again', async (t) => {
  const server = await startTestServer(t);
  const email = 'left-signed-in@example.com';
  const { client, html } = await signedInAt(server, '/account/email', email);
  const account = await accountByEmail(server, email);
  // As if the person had signed in an hour ago and walked away from the browser.
  const row = await server.app.services.db
    .selectFrom('account_sessions')
    .select('session_uid')
    .where('account_id', '=', account.id)
    .executeTakeFirstOrThrow();
  const session = (await server.app.provider.current().Session.findByUid(row.session_uid))!;
  session.loginTs = Math.floor(Date.now() / 1000) - 3600;
  await session.save(3600);

  for (const response of [
    await client.request('/account/email'),
    await client.request('/account/email', { form: { _csrf: csrfToken(html), identifier: 'thief@example.com' } }),
  ]) {
    t.is(response.status, 302);
    const location = new URL(response.headers.get('location')!);
    t.is(location.pathname, '/auth');
    t.is(location.searchParams.get('prompt'), 'login');
  }
  t.false(
    (await outboxMessages(server.url)).some((message) => message.to === 'thief@example.com'),
    'no code went to the new address',
  );
  t.is((await client.request('/account')).status, 200, 'the browser is still signed in for everything else');
});

test('a change form sent without its CSRF token is refused', async (t) => {
  const server = await startTestServer(t);
  const { client } = await signedInAt(server, '/account/email', 'forged-change@example.com');
  const response = await client.request('/account/email', {
    form: { _csrf: 'forged', identifier: 'attacker@example.com' },
  });
  t.is(response.status, 403);
  t.false((await outboxMessages(server.url)).some((message) => message.to === 'attacker@example.com'));
});
