import test from 'ava';
import { authorize, passEmailCode, submit } from '../helpers/authorization.ts';
import { nextAppCode, secretFromPage } from '../helpers/authenticator-app.ts';
import { signedInAt, submitForm } from '../helpers/account-pages.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';

test('wrong authenticator codes lock the account’s second step; while locked even the right code is refused', async (t) => {
  const server = await startTestServer(t, { env: { LOCKOUT_AFTER_FAILURES: '3/900', LOCKOUT_SECONDS: '600' } });
  const email = 'guessed@example.com';
  const { client } = await signedInAt(server, '/account/security', email);
  const setup = await (await client.request('/account/security/totp')).text();
  const secret = secretFromPage(setup);
  const first = await nextAppCode(secret, 0, server.clock);
  await submitForm(client, setup, '/account/security/totp', {
    pending: /name="pending" value="([^"]+)"/.exec(setup)![1]!,
    code: first.code,
  });

  const { clientId, clientSecret } = await registerClient(server.app, { firstParty: true });
  const config = await discover(server.url, clientId, clientSecret);
  const flow = await authorize(server, config);
  const page = await passEmailCode(server, flow.client, flow, email);
  const right = await nextAppCode(secret, first.step, server.clock);
  const wrongCode = right.code === '000000' ? '111111' : '000000';
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    const wrong = await submit(flow.client, page, '/mfa/totp', { code: wrongCode });
    t.is(wrong.response.status, 400, `attempt ${attempt}`);
  }
  const locking = await submit(flow.client, page, '/mfa/totp', { code: wrongCode });
  t.is(locking.response.status, 429);
  t.regex(locking.html, /locked for \d+ (minutes|seconds?)\./);
  t.truthy(locking.response.headers.get('retry-after'));

  const refused = await submit(flow.client, page, '/mfa/totp', { code: right.code });
  t.is(refused.response.status, 429, 'the right code does not get through a lockout');
  t.regex(refused.html, /locked for /);
  t.falsy(refused.url.searchParams.get('code'));

  const account = await server.app.services.db
    .selectFrom('accounts')
    .select('id')
    .where('email', '=', email)
    .executeTakeFirstOrThrow();
  const events = await server.app.services.audit.recentFor(account.id);
  t.true(events.some((event) => event.event === 'lockout'));
});
