import test from 'ava';
import { accountByEmail, ageSignIn, signedInAt, submitForm } from '../helpers/account-pages.ts';
import { nextAppCode, secretFromPage } from '../helpers/authenticator-app.ts';
import type { PageClient } from '../helpers/page-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PAGE = '/account/security';

/** Signs in on the security page and turns on an authenticator app there; returns the browser and the app's key. */
async function withAuthenticatorApp(server: TestServer, email: string) {
  const { client } = await signedInAt(server, PAGE, email);
  const setup = await client.request(`${PAGE}/totp`);
  const html = await setup.text();
  const secret = secretFromPage(html);
  const pending = /name="pending" value="([^"]+)"/.exec(html)![1]!;
  const { code, step } = await nextAppCode(secret, 0, server.clock);
  const { response } = await submitForm(client, html, `${PAGE}/totp`, { pending, code });
  if (response.status !== 303) throw new Error(`turning on the app answered ${response.status}`);
  return { client, secret, step, codesPage: response.headers.get('location')! };
}

async function securityPage(client: PageClient) {
  const response = await client.request(PAGE);
  return { response, html: await response.text() };
}

test('turning on an authenticator app gives ten backup codes once, and the session that did it stays signed in', async (t) => {
  const server = await startTestServer(t);
  const { client, codesPage } = await withAuthenticatorApp(server, 'app@example.com');
  t.is(codesPage, '/account/security/backup-codes');
  const codes = await client.request(codesPage);
  t.is(codes.status, 200);
  t.is([...(await codes.text()).matchAll(/<li><code>/g)].length, 10);
  const again = await client.request(codesPage);
  t.is(again.status, 303, 'shown once');
  const { response, html } = await securityPage(client);
  t.is(response.status, 200);
  t.regex(html, /Two-step sign-in is <strong>on<\/strong>/);
  t.regex(html, /10 of 10/);
  const account = await accountByEmail(server, 'app@example.com');
  const events = await server.app.services.audit.recentFor(account.id);
  t.true(events.some((event) => event.event === 'factor_added'));
});

test('a wrong code does not turn the app on, and a forged or foreign setup form is refused', async (t) => {
  const server = await startTestServer(t);
  const { client } = await signedInAt(server, PAGE, 'careful@example.com');
  const setup = await (await client.request(`${PAGE}/totp`)).text();
  const pending = /name="pending" value="([^"]+)"/.exec(setup)![1]!;
  const secret = secretFromPage(setup);
  const right = (await nextAppCode(secret, 0, server.clock)).code;
  const wrong = await submitForm(client, setup, `${PAGE}/totp`, {
    pending,
    code: right === '123456' ? '654321' : '123456',
  });
  t.is(wrong.response.status, 400);
  t.regex(wrong.html, /not right/);

  // Another person's setup (sealed to their account) does not open for this one.
  const { client: other } = await signedInAt(server, PAGE, 'other@example.com');
  const theirs = await (await other.request(`${PAGE}/totp`)).text();
  const theirPending = /name="pending" value="([^"]+)"/.exec(theirs)![1]!;
  const foreign = await submitForm(client, setup, `${PAGE}/totp`, {
    pending: theirPending,
    code: (await nextAppCode(secretFromPage(theirs), 0, server.clock)).code,
  });
  t.is(foreign.response.status, 400);
  const forged = await submitForm(client, setup, `${PAGE}/totp`, { pending: 'a.b.c', code: right });
  t.is(forged.response.status, 400);
  t.is((await server.app.services.db.selectFrom('totp_factors').select('account_id').execute()).length, 0);
});

test('removing the last second factor needs a recent sign-in, and takes the backup codes with it', async (t) => {
  const server = await startTestServer(t);
  const email = 'remover@example.com';
  const { client } = await withAuthenticatorApp(server, email);
  const account = await accountByEmail(server, email);
  const { html } = await securityPage(client);

  await ageSignIn(server, email, 600);
  const stale = await submitForm(client, html, `${PAGE}/totp/remove`);
  t.is(stale.response.status, 302, 'an old sign-in is sent to sign in again');
  const signIn = new URL(stale.response.headers.get('location')!);
  t.is(signIn.searchParams.get('prompt'), 'login');
  t.truthy(await server.app.services.totp.find(account.id), 'nothing removed yet');

  await ageSignIn(server, email, -600);
  const asked = await submitForm(client, html, `${PAGE}/totp/remove`);
  t.is(asked.response.status, 200, 'the first press asks to confirm');
  t.regex(asked.html, /<h1 id="page-title">Remove your authenticator app\?<\/h1>/);
  t.regex(asked.html, /removing it turns two-step sign-in off/);
  t.truthy(await server.app.services.totp.find(account.id), 'nothing removed before the confirmation');
  const fresh = await submitForm(client, asked.html, `${PAGE}/totp/remove`, { confirm: 'yes' });
  t.is(fresh.response.status, 303);
  t.falsy(await server.app.services.totp.find(account.id));
  t.is(await server.app.services.backupCodes.remaining(account.id), 0);
  t.regex((await securityPage(client)).html, /Two-step sign-in is <strong>off<\/strong>/);
});

test('new backup codes replace the old ones and need a recent sign-in; without a second factor there are none to make', async (t) => {
  const server = await startTestServer(t);
  const email = 'regenerate@example.com';
  const { client, codesPage } = await withAuthenticatorApp(server, email);
  const first = [...(await (await client.request(codesPage)).text()).matchAll(/<li><code>([^<]+)<\/code>/g)].map(
    (m) => m[1]!,
  );
  const account = await accountByEmail(server, email);
  const { html } = await securityPage(client);

  await ageSignIn(server, email, 600);
  t.is((await submitForm(client, html, `${PAGE}/backup-codes`)).response.status, 302);
  await ageSignIn(server, email, -600);
  const made = await submitForm(client, html, `${PAGE}/backup-codes`);
  t.is(made.response.status, 303);
  const page = await (await client.request(made.response.headers.get('location')!)).text();
  const second = [...page.matchAll(/<li><code>([^<]+)<\/code>/g)].map((m) => m[1]!);
  t.is(second.length, 10);
  t.regex(page, /earlier backup codes no longer work/);
  t.false(await server.app.services.backupCodes.consume(account.id, first[0]!), 'an old code is dead');
  t.true(await server.app.services.backupCodes.consume(account.id, second[0]!));

  const { client: plain } = await signedInAt(server, PAGE, 'no-factor@example.com');
  // The page of a person without a second factor has no form; the setup page carries the same CSRF token.
  const withToken = await (await plain.request(`${PAGE}/totp`)).text();
  const refused = await submitForm(plain, withToken, `${PAGE}/backup-codes`);
  t.is(refused.response.status, 400);
  t.regex(refused.html, /Add an authenticator app or a passkey first/);
});

test('two concurrent uses of one backup code: exactly one is accepted', async (t) => {
  const server = await startTestServer(t);
  const email = 'race@example.com';
  const { client, codesPage } = await withAuthenticatorApp(server, email);
  const [code] = [...(await (await client.request(codesPage)).text()).matchAll(/<li><code>([^<]+)<\/code>/g)].map(
    (m) => m[1]!,
  );
  const account = await accountByEmail(server, email);
  const results = await Promise.all(
    Array.from({ length: 8 }, () => server.app.services.backupCodes.consume(account.id, code!)),
  );
  t.is(results.filter(Boolean).length, 1);
});

test('two concurrent checks of one authenticator code: exactly one is accepted', async (t) => {
  const server = await startTestServer(t);
  const email = 'totp-race@example.com';
  const { secret, step } = await withAuthenticatorApp(server, email);
  const account = await accountByEmail(server, email);
  const { code } = await nextAppCode(secret, step, server.clock);
  const results = await Promise.all(Array.from({ length: 8 }, () => server.app.services.totp.check(account.id, code)));
  t.is(results.filter((result) => result === 'ok').length, 1);
  t.true(results.filter((result) => result !== 'ok').every((result) => result === 'replayed'));
});

test('renaming the app keeps it to 1 to 60 characters', async (t) => {
  const server = await startTestServer(t);
  const { client } = await withAuthenticatorApp(server, 'rename@example.com');
  const { html } = await securityPage(client);
  t.is((await submitForm(client, html, `${PAGE}/totp/rename`, { name: '   ' })).response.status, 400);
  t.is((await submitForm(client, html, `${PAGE}/totp/rename`, { name: 'x'.repeat(61) })).response.status, 400);
  const renamed = await submitForm(client, html, `${PAGE}/totp/rename`, { name: 'Aegis on my phone' });
  t.is(renamed.response.status, 303);
  t.regex((await securityPage(client)).html, /Aegis on my phone/);
});

test('the security page asks a person to sign in first, and its forms refuse a missing CSRF token', async (t) => {
  const server = await startTestServer(t);
  const anonymous = await fetch(`${server.url}${PAGE}`, { redirect: 'manual' });
  t.is(anonymous.status, 302);
  t.regex(anonymous.headers.get('location')!, /\/auth\?/);
  const { client } = await withAuthenticatorApp(server, 'csrf@example.com');
  const forged = await client.request(`${PAGE}/totp/remove`, { form: { _csrf: 'nope' } });
  t.is(forged.status, 403);
});

test('removing the app while a passkey remains keeps two-step sign-in and the backup codes', async (t) => {
  const server = await startTestServer(t);
  const email = 'keeps-passkey@example.com';
  const { client } = await withAuthenticatorApp(server, email);
  const account = await accountByEmail(server, email);
  // A passkey row as registration stores it; its keys are never used here.
  await server.app.services.db
    .insertInto('passkeys')
    .values({
      id: 'pk-1',
      account_id: account.id,
      credential_id: 'cred-1',
      public_key: new Uint8Array([1]),
      counter: 0,
      transports: '[]',
      device_type: 'multiDevice',
      backed_up: true,
      name: 'Phone',
    })
    .execute();
  const { html } = await securityPage(client);
  const removed = await submitForm(client, html, `${PAGE}/totp/remove`, { confirm: 'yes' });
  t.is(removed.response.status, 303);
  t.falsy(await server.app.services.totp.find(account.id));
  t.is(await server.app.services.backupCodes.remaining(account.id), 10);
  t.regex((await securityPage(client)).html, /Two-step sign-in is <strong>on<\/strong>/);
});
