import test, { type ExecutionContext } from 'ava';
import type * as oidc from 'openid-client';
import {
  authorize,
  land,
  passEmailCode,
  redeem,
  submit,
  type Authorization,
  type Landing,
} from '../helpers/authorization.ts';
import { nextAppCode, secretFromPage } from '../helpers/authenticator-app.ts';
import { accountByEmail, ageSignIn } from '../helpers/account-pages.ts';
import { latestCode } from '../helpers/outbox.ts';
import { PageClient } from '../helpers/page-client.ts';
import { discover, registerClient, silentAuthorization } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

async function relyingParty(t: ExecutionContext) {
  const server = await startTestServer(t);
  // First-party, so no consent page stands between the sign-in and the callback.
  const { clientId, clientSecret } = await registerClient(server.app, { firstParty: true });
  return { server, config: await discover(server.url, clientId, clientSecret) };
}

const mfaPath = (landing: Landing) => /^\/interaction\/[^/]+\/mfa$/.test(landing.url.pathname);

/**
 * A person who signs in with an email code at an `acr_values=mfa` request and sets up an
 * authenticator app on the way; returns the app's key, the last step used, and the ID token.
 */
async function enrollAuthenticatorApp(server: TestServer, config: oidc.Configuration, email: string) {
  const flow = await authorize(server, config, { acr_values: 'mfa' });
  const enroll = await passEmailCode(server, flow.client, flow, email);
  if (!mfaPath(enroll) || !enroll.html.includes('Add a second step'))
    throw new Error(`expected the enrollment page, got ${enroll.url.href}`);
  const setup = await land(flow.client, `${enroll.url.pathname}/totp-setup`);
  const secret = secretFromPage(setup.html);
  const { code, step } = await nextAppCode(secret, 0, server.clock);
  const saved = await submit(flow.client, setup, '/mfa/totp-setup', { code, pending: pendingField(setup.html) });
  const backupCodes = [...saved.html.matchAll(/<li><code>([0-9a-z-]+)<\/code><\/li>/g)].map((match) => match[1]!);
  const next = /href="([^"]+)">I saved them/.exec(saved.html)?.[1];
  if (!next) throw new Error(`expected the backup codes page, got ${saved.url.href}`);
  const callback = await flow.client.follow(next.replaceAll('&amp;', '&'));
  return { secret, step, backupCodes, claims: await redeem(config, callback.url, flow.check), flow };
}

function pendingField(html: string) {
  return /name="pending" value="([^"]+)"/.exec(html)![1]!;
}

/** Signs in with an email code in a new browser; returns the second-step page it stops at. */
async function firstFactorOnly(
  server: TestServer,
  config: oidc.Configuration,
  email: string,
  extra: Record<string, string> = {},
) {
  const flow = await authorize(server, config, extra);
  const page = await passEmailCode(server, flow.client, flow, email);
  return { flow, page };
}

async function finish(config: oidc.Configuration, flow: Authorization, landing: Landing) {
  return redeem(config, landing.url, flow.check);
}

test('asking for acr mfa makes a person without a second factor set up an authenticator app; the ID token says mfa', async (t) => {
  const { server, config } = await relyingParty(t);
  const { claims, backupCodes } = await enrollAuthenticatorApp(server, config, 'step-up@example.com');
  t.is(claims.acr, 'mfa');
  t.deepEqual([...(claims.amr as string[])].sort(), ['mfa', 'otp']);
  t.is(backupCodes.length, 10, 'the backup codes are shown once, at enrollment');
  t.is(new Set(backupCodes).size, 10);
  const rows = await server.app.services.db.selectFrom('backup_codes').select('code_hash').execute();
  t.false(
    rows.some((row) => backupCodes.some((code) => row.code_hash.includes(code.replace('-', '')))),
    'only hashes are stored',
  );
});

test('without acr_values, one email code signs in at 1fa with amr otp', async (t) => {
  const { server, config } = await relyingParty(t);
  const { flow, page } = await firstFactorOnly(server, config, 'one-factor@example.com');
  const claims = await finish(config, flow, page);
  t.is(claims.acr, '1fa');
  t.deepEqual(claims.amr, ['otp']);
});

test('once a person has an authenticator app, every sign-in asks for it, and a code is accepted only once', async (t) => {
  const { server, config } = await relyingParty(t);
  const email = 'every-time@example.com';
  const { secret, step } = await enrollAuthenticatorApp(server, config, email);

  const { flow, page } = await firstFactorOnly(server, config, email);
  t.true(mfaPath(page), 'a plain request stops at the second step too');
  t.true(page.html.includes('/mfa/totp"'));
  const wrong = await submit(flow.client, page, '/mfa/totp', {
    code: '000000' === (await nextAppCode(secret, step, server.clock)).code ? '111111' : '000000',
  });
  t.is(wrong.response.status, 400);
  t.regex(wrong.html, /not right/);
  const { code } = await nextAppCode(secret, step, server.clock);
  const signedIn = await submit(flow.client, page, '/mfa/totp', { code });
  const claims = await finish(config, flow, signedIn);
  t.is(claims.acr, 'mfa');
  t.deepEqual([...(claims.amr as string[])].sort(), ['mfa', 'otp']);

  const again = await firstFactorOnly(server, config, email);
  const replayed = await submit(again.flow.client, again.page, '/mfa/totp', { code });
  t.is(replayed.response.status, 400);
  t.regex(replayed.html, /already used/);
});

test('a backup code passes the second step once; the same code again is refused', async (t) => {
  const { server, config } = await relyingParty(t);
  const email = 'backup@example.com';
  const { backupCodes } = await enrollAuthenticatorApp(server, config, email);
  const [first] = backupCodes;

  const { flow, page } = await firstFactorOnly(server, config, email);
  const form = await land(flow.client, `${page.url.pathname}/backup-code`);
  // Typed loosely, as from paper: upper case, spaces instead of the dash.
  const passed = await submit(flow.client, form, '/mfa/backup-code', { code: first!.toUpperCase().replace('-', ' ') });
  const claims = await finish(config, flow, passed);
  t.is(claims.acr, 'mfa');
  t.true((claims.amr as string[]).includes('otp'));

  const again = await firstFactorOnly(server, config, email);
  const form2 = await land(again.flow.client, `${again.page.url.pathname}/backup-code`);
  const refused = await submit(again.flow.client, form2, '/mfa/backup-code', { code: first! });
  t.is(refused.response.status, 400);
  t.regex(refused.html, /already used/);
  const account = await accountByEmail(server, email);
  t.is(await server.app.services.backupCodes.remaining(account.id), 9);
});

test('after an email code, a text message code is a second factor; the same channel never is', async (t) => {
  const { server, config } = await relyingParty(t);
  const email = 'two-channels@example.com';
  await enrollAuthenticatorApp(server, config, email);
  const account = await accountByEmail(server, email);
  await server.app.services.db
    .updateTable('accounts')
    .set({ phone_number: '+14155552671', phone_number_verified: true })
    .where('id', '=', account.id)
    .execute();

  const { flow, page } = await firstFactorOnly(server, config, email);
  t.regex(page.html, /Text a code to/);
  t.notRegex(page.html, /Email a code to/, 'the email that was the first factor is not offered again');
  const codePage = await submit(flow.client, page, '/mfa/send-code');
  t.regex(codePage.html, /texted a 6-digit code/);
  const signedIn = await submit(flow.client, codePage, '/mfa/code', {
    code: await latestCode(server.url, '+14155552671'),
  });
  const claims = await finish(config, flow, signedIn);
  t.is(claims.acr, 'mfa');
  t.deepEqual([...(claims.amr as string[])].sort(), ['mfa', 'otp', 'sms']);
});

test('prompt=none with acr_values=mfa on a one-factor session fails with unmet_authentication_requirements', async (t) => {
  const { server, config } = await relyingParty(t);
  const { flow, page } = await firstFactorOnly(server, config, 'silent@example.com');
  await finish(config, flow, page);
  const params = await silentAuthorization(config, flow.client, { acr_values: 'mfa' });
  t.is(params.get('error'), 'unmet_authentication_requirements');
  t.falsy(params.get('code'));
  // Control: the same session without the step-up is silent and fine.
  t.truthy((await silentAuthorization(config, flow.client)).get('code'));
});

test('prompt=none for a person with a second factor the session has not passed is interaction_required', async (t) => {
  const { server, config } = await relyingParty(t);
  const email = 'halfway@example.com';
  await enrollAuthenticatorApp(server, config, email);
  const { flow } = await firstFactorOnly(server, config, email);
  const params = await silentAuthorization(config, flow.client);
  t.is(params.get('error'), 'interaction_required');
});

test('max_age shorter than the session asks for the first factor again; within it, no', async (t) => {
  const { server, config } = await relyingParty(t);
  const email = 'max-age@example.com';
  const { flow, page } = await firstFactorOnly(server, config, email);
  await finish(config, flow, page);
  await ageSignIn(server, email, 600);

  const recent = await authorize(server, config, { max_age: '3600' }, flow.client);
  const claims = await redeem(config, recent.url, recent.check);
  t.true((claims.auth_time as number) <= Date.now() / 1000 - 600, 'auth_time is the sign-in ten minutes ago');

  const stale = await authorize(server, config, { max_age: '300' }, flow.client);
  t.regex(stale.url.pathname, /^\/interaction\//, 'the session is too old: the sign-in page');
  t.true(stale.html.includes('/email"'));
  const signedIn = await passEmailCode(server, flow.client, stale, email);
  const fresh = await redeem(config, signedIn.url, stale.check);
  t.true((fresh.auth_time as number) > (claims.auth_time as number));
});

test('holding only the first factor, nobody can enroll an authenticator app past the existing one', async (t) => {
  const { server, config } = await relyingParty(t);
  const email = 'guarded@example.com';
  const { secret, step } = await enrollAuthenticatorApp(server, config, email);
  const { flow, page } = await firstFactorOnly(server, config, email, { acr_values: 'mfa' });
  t.false(page.html.includes('totp-setup'), 'no enrollment is offered');
  const setup = await flow.client.request(`${page.url.pathname}/totp-setup`);
  t.is(setup.status, 302);
  t.is(new URL(setup.headers.get('location')!, server.url).pathname, page.url.pathname);
  const forged = await submit(
    flow.client,
    { ...page, html: page.html.replace('/mfa/totp"', '/mfa/totp-setup"') },
    '/mfa/totp-setup',
    {
      code: (await nextAppCode(secret, step, server.clock)).code,
      pending: 'forged',
    },
  );
  t.is(forged.response.status, 400);
  t.is(
    await server.app.services.db
      .selectFrom('totp_factors')
      .select('account_id')
      .execute()
      .then((rows) => rows.length),
    1,
  );
});

test('asking for acr phr makes a person without a passkey create one, and offers no weaker way', async (t) => {
  const { server, config } = await relyingParty(t);
  const { page } = await firstFactorOnly(server, config, 'phishing-resistant@example.com', { acr_values: 'phr' });
  t.true(mfaPath(page));
  t.regex(page.html, /<h1[^>]*>Create a passkey<\/h1>/);
  t.false(page.html.includes('totp-setup'));
});

test('a second-step page for an interaction at another prompt, or another browser, is refused with a page', async (t) => {
  const { server, config } = await relyingParty(t);
  const flow = await authorize(server, config);
  const uid = flow.url.pathname.split('/')[2];
  const notYet = await flow.client.request(`/interaction/${uid}/mfa`);
  t.is(notYet.status, 302, 'before the first factor, the second-step page sends back to the sign-in page');
  const stranger = await new PageClient(server.url).request(`/interaction/${uid}/mfa`);
  t.is(stranger.status, 400);
  t.regex(await stranger.text(), /started in another browser or app/);
});
