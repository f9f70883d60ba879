import test from 'ava';
import { csrfToken, type PageClient } from '../helpers/page-client.ts';
import { readForm } from '../helpers/html-form.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';

const PAGE = '/account/sessions';

/** A new browser (its own cookies) signed in as `email`, on the devices page. */
async function device(server: TestServer, email: string) {
  const { url, html, client } = await signInThroughPages(server.url, `${server.url}${PAGE}`, email);
  if (url.pathname !== PAGE) throw new Error(`signing in ended at ${url.href}`);
  return { client, html };
}

/** The session uids the page offers to sign out (every listed session but this device's). */
function otherSessions(html: string): string[] {
  return [...html.matchAll(/name="session" value="([^"]+)"/g)].map((match) => match[1]!);
}

/** Whether this browser is still signed in: the devices page shows, rather than sending it to sign in. */
async function signedIn(client: PageClient) {
  const { url } = await client.follow(PAGE);
  return url.pathname === PAGE;
}

async function accountId(server: TestServer, email: string) {
  const row = await server.app.services.db
    .selectFrom('accounts')
    .select('id')
    .where('email', '=', email)
    .executeTakeFirstOrThrow();
  return row.id;
}

/** The session uids the index still counts as live for the person. */
async function openSessionRows(server: TestServer, email: string) {
  const rows = await server.app.services.db
    .selectFrom('account_sessions')
    .select('session_uid')
    .where('account_id', '=', await accountId(server, email))
    .where('ended_at', 'is', null)
    .execute();
  return rows.map((row) => row.session_uid);
}

test('the devices page lists each browser a person is signed in with and marks the one in use', async (t) => {
  const server = await startTestServer(t);
  await device(server, 'two-browsers@example.com');
  const { html } = await device(server, 'two-browsers@example.com');

  t.is(html.match(/class="session[ "]/g)?.length, 2, 'both browsers are listed');
  t.is(html.match(/This device/g)?.length, 1, 'only one of them is this device');
  t.is(otherSessions(html).length, 1, 'the other one can be signed out from here');
  t.regex(html, /<dt>IP address<\/dt><dd>127\.0\.0\.1<\/dd>/);
  t.regex(html, /href="\/session\/end">Sign out</, 'this device signs out through the provider');
  t.regex(html, /Sign out all other sessions/);
  t.regex(html, /aria-current="page">Devices</);
});

test('signing out another device ends its session in the provider while this one keeps working', async (t) => {
  const server = await startTestServer(t);
  const email = 'lost-phone@example.com';
  const phone = await device(server, email);
  const laptop = await device(server, email);
  const [phoneSession] = otherSessions(laptop.html);

  const { response, url } = await laptop.client.follow(`${PAGE}/sign-out`, {
    form: { _csrf: csrfToken(laptop.html), session: phoneSession! },
  });
  t.is(response.status, 200);
  t.is(`${url.pathname}${url.search}`, `${PAGE}?signed-out=one`);
  const after = await response.text();
  t.regex(after, /That device is signed out/);
  t.deepEqual(otherSessions(after), [], 'the phone is no longer listed');

  t.false(await signedIn(phone.client), "the phone's cookie no longer signs anyone in");
  t.true(await signedIn(laptop.client), 'the laptop stays signed in');

  const events = await server.app.services.audit.recentFor(await accountId(server, email));
  const revoked = events.find((event) => event.event === 'session_revoked');
  t.truthy(revoked, 'the revocation is in the audit log');
  t.deepEqual(revoked?.detail, { session_uid: phoneSession });
});

test('a person cannot sign out someone else’s session', async (t) => {
  const server = await startTestServer(t);
  const victim = await device(server, 'victim@example.com');
  // Signed in twice, so the attacker's page has sign-out forms (and a CSRF token) to work from.
  await device(server, 'attacker@example.com');
  const attacker = await device(server, 'attacker@example.com');
  // The victim's session uid, as the victim's own page would show it to another of their browsers.
  const victimElsewhere = await device(server, 'victim@example.com');
  const [victimSession] = otherSessions(victimElsewhere.html);

  const response = await attacker.client.request(`${PAGE}/sign-out`, {
    form: { _csrf: csrfToken(attacker.html), session: victimSession! },
  });
  t.is(response.status, 404);
  t.regex(await response.text(), /That device is not signed in to your account any more/);
  t.true(await signedIn(victim.client), 'the victim is still signed in');
});

test('signing out all other sessions keeps only the device in use', async (t) => {
  const server = await startTestServer(t);
  const email = 'tidy@example.com';
  const first = await device(server, email);
  const second = await device(server, email);
  const third = await device(server, email);
  t.is(otherSessions(third.html).length, 2);

  const { url, response } = await third.client.follow(`${PAGE}/sign-out-others`, {
    form: { _csrf: csrfToken(third.html) },
  });
  t.is(url.search, '?signed-out=others');
  const after = await response.text();
  t.regex(after, /All your other devices are signed out/);
  t.deepEqual(otherSessions(after), []);
  t.regex(after, /You are not signed in anywhere else/);

  t.false(await signedIn(first.client));
  t.false(await signedIn(second.client));
  t.true(await signedIn(third.client));
});

test('a sign-out form sent without its CSRF token is refused and signs nothing out', async (t) => {
  const server = await startTestServer(t);
  const email = 'forged@example.com';
  const first = await device(server, email);
  const second = await device(server, email);

  const response = await second.client.request(`${PAGE}/sign-out-others`, { form: { _csrf: 'forged' } });
  t.is(response.status, 403);
  t.true(await signedIn(first.client));
});

test('signing out this device goes through the provider’s logout and ends on a clear page', async (t) => {
  const server = await startTestServer(t);
  const email = 'leaving@example.com';
  const other = await device(server, email);
  const { client, html } = await device(server, email);
  t.regex(html, /<li class="session current">/, 'this device is listed');

  // Posting this device's own session (a hand-made form) lands on the same logout as the link.
  const [otherSession] = otherSessions(html);
  const sessionUid = (await openSessionRows(server, email)).find((uid) => uid !== otherSession)!;
  const posted = await client.request(`${PAGE}/sign-out`, { form: { _csrf: csrfToken(html), session: sessionUid } });
  t.is(posted.status, 303);
  t.is(posted.headers.get('location'), '/session/end');

  const confirm = await client.request('/session/end');
  const confirmHtml = await confirm.text();
  t.regex(confirmHtml, /Do you want to sign out of FairyID on this device\?/);
  const form = readForm(confirmHtml, 'op.logoutForm');
  const { url, response } = await client.follow(form.action, { form: { ...form.fields, logout: 'yes' } });
  t.is(url.pathname, '/session/end/success');
  t.regex(await response.text(), /You are signed out of FairyID on this device/);

  t.false(await signedIn(client));
  t.true(await signedIn(other.client), 'other devices are not signed out by it');
  t.deepEqual(await openSessionRows(server, email), [otherSession], 'this session is no longer listed');
  const signOut = (await server.app.services.audit.recentFor(await accountId(server, email))).find(
    (event) => event.event === 'sign_out',
  );
  t.deepEqual(signOut?.detail, { session_uid: sessionUid, everywhere: true });
});

test('a session the provider no longer has is not listed, even without a logout', async (t) => {
  const server = await startTestServer(t);
  const email = 'forgotten@example.com';
  await device(server, email);
  const { client } = await device(server, email);
  const { response } = await client.follow(PAGE);
  const [forgotten] = otherSessions(await response.text());

  // As the embedded store does at a restart: the session is simply gone.
  await (await server.app.provider.current().Session.findByUid(forgotten!))!.destroy();

  const { response: again } = await client.follow(PAGE);
  t.deepEqual(otherSessions(await again.text()), []);
  t.false((await openSessionRows(server, email)).includes(forgotten!), 'its row is closed');
});
