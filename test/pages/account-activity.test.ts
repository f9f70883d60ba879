import test from 'ava';
import { describeDetail } from '../../src/account-pages/activity-labels.ts';
import { accountByEmail, signedInAt, submitForm } from '../helpers/account-pages.ts';
import { latestCode } from '../helpers/outbox.ts';
import { startTestServer } from '../helpers/server.ts';
import { askForCode, openSignInPage, otherThan, submitCode } from '../helpers/sign-in-pages.ts';

const PAGE = '/account/activity';
const WINDOWS_FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';

/** The events on the page, newest first, as their visible text with whitespace squeezed. */
const listedEvents = (html: string) =>
  [...html.matchAll(/<li class="activity-event[^"]*">([\s\S]*?)<\/li>/g)].map((match) =>
    match[1]!
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );

test('the activity page shows the person’s own sign-ins, failures and changes, newest first, with time, IP, browser and outcome', async (t) => {
  const server = await startTestServer(t);
  const email = 'watchful@example.com';
  const { client, html } = await signedInAt(server, '/account', email);
  // Someone else types a wrong code for this address in an app: a failed attempt on this account.
  const attempt = await openSignInPage(server);
  const asked = await askForCode(attempt.client, attempt.html, email);
  await submitCode(attempt.client, asked.html, otherThan(await latestCode(server.url, email)));
  await submitForm(
    client,
    html,
    '/account/profile',
    { name: 'Watchful Wren', picture: '' },
    { 'user-agent': WINDOWS_FIREFOX },
  );

  const response = await client.request(PAGE);
  t.is(response.status, 200);
  const page = await response.text();
  t.regex(page, /aria-current="page">Activity</);
  const events = listedEvents(page);
  t.is(events.length, 3, events.join('\n'));
  t.regex(
    events[0]!,
    /^Profile updated Succeeded Changed: name (just now|\d+ minutes? ago) Firefox on Windows IP 127\.0\.0\.1$/,
  );
  t.true(
    events.some((text) =>
      /^Signed in Succeeded App: FairyID With an email code Your account was created (just now|\d+ minutes? ago) .* IP 127\.0\.0\.1$/.test(
        text,
      ),
    ),
    'the sign-in through our own pages',
  );
  t.true(
    events.some((text) =>
      /^Sign-in attempt failed Failed App: Test RP With an email code Failed: wrong code /.test(text),
    ),
    'the wrong code typed before',
  );
  // Relative to now at a glance, with the exact time in UTC on hover.
  t.regex(page, /<time datetime="\d{4}-\d{2}-\d{2}T[^"]+" title="\d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC">[^<]+<\/time>/);
});

test('the activity page never shows another person’s events', async (t) => {
  const server = await startTestServer(t);
  const other = await signedInAt(server, '/account', 'someone-else@example.com');
  await submitForm(other.client, other.html, '/account/profile', { name: 'Other', picture: '' });

  const { html } = await signedInAt(server, PAGE, 'private@example.com');
  const events = listedEvents(html);
  t.false(
    events.some((text) => text.startsWith('Profile updated')),
    'the other person’s change is not listed',
  );
  const mine = await server.app.services.audit.recentFor((await accountByEmail(server, 'private@example.com')).id);
  t.is(events.length, mine.length);
});

test('the activity page asks a person to sign in first', async (t) => {
  const server = await startTestServer(t);
  const response = await fetch(`${server.url}${PAGE}`, { redirect: 'manual' });
  t.is(response.status, 302);
  t.is(new URL(response.headers.get('location')!).pathname, '/auth');
});

test('event details are put in words without internal ids', (t) => {
  t.deepEqual(describeDetail({ method: 'sms', created: false }), ['With a text message code']);
  t.deepEqual(describeDetail({ channel: 'email', until: '2026-11-22T10:15:00.000Z' }), [
    'With an email code',
    'Locked until 22 Nov 2026, 10:15 UTC',
  ]);
  t.deepEqual(describeDetail({ from: 'o***@example.com', to: 'n***@example.com' }), [
    'From o***@example.com to n***@example.com',
  ]);
  t.deepEqual(describeDetail({ to: '+*******2671', reason: 'taken' }), [
    'Failed: another account already has it',
    'To +*******2671',
  ]);
  t.deepEqual(describeDetail({ session_uid: 'abc', grant_ids: ['g1'] }), []);
  t.deepEqual(describeDetail({ changed: ['name', 'picture'] }), ['Changed: name and picture']);
  t.deepEqual(describeDetail({ factor: 'totp' }), ['Authenticator app']);
  t.deepEqual(describeDetail({ type: 'passkey', name: 'Work laptop' }), ['Passkey', '“Work laptop”']);
  t.deepEqual(describeDetail(null), []);
});
