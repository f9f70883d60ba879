import test, { type ExecutionContext } from 'ava';
import type * as oidc from 'openid-client';
import { nextAppCode, secretFromPage } from '../helpers/authenticator-app.ts';
import { accountByEmail } from '../helpers/account-pages.ts';
import { authorize, land, passEmailCode, redeem, submit, type Landing } from '../helpers/authorization.ts';
import { latestCode } from '../helpers/outbox.ts';
import { PageClient } from '../helpers/page-client.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ENV = { LIMIT_SENDS_PER_RECIPIENT: '100/3600', LIMIT_SENDS_PER_ACCOUNT: '100/3600' };

async function relyingParty(t: ExecutionContext) {
  const server = await startTestServer(t, { env: ENV });
  const { clientId, clientSecret } = await registerClient(server.app, { firstParty: true });
  return { server, config: await discover(server.url, clientId, clientSecret) };
}

const isSecondStep = (landing: Landing) => /^\/interaction\/[^/]+\/mfa$/.test(landing.url.pathname);

/** An account with an authenticator app, set up at an `acr_values=mfa` request; returns its key and last step. */
async function withAuthenticatorApp(server: TestServer, config: oidc.Configuration, email: string) {
  const flow = await authorize(server, config, { acr_values: 'mfa' });
  const enroll = await passEmailCode(server, flow.client, flow, email);
  const setup = await land(flow.client, `${enroll.url.pathname}/totp-setup`);
  const secret = secretFromPage(setup.html);
  const { code, step } = await nextAppCode(secret, 0, server.clock);
  const pending = /name="pending" value="([^"]+)"/.exec(setup.html)![1]!;
  const saved = await submit(flow.client, setup, '/mfa/totp-setup', { code, pending });
  if (!saved.html.includes('I saved them')) throw new Error(`expected the backup codes, got ${saved.url.href}`);
  return { secret, step };
}

test('the second step shows the phone number masked, and the full number is nowhere in its HTML', async (t) => {
  const { server, config } = await relyingParty(t);
  const email = 'masked-phone@example.com';
  await withAuthenticatorApp(server, config, email);
  await server.app.services.db
    .updateTable('accounts')
    .set({ phone_number: '+14155552673', phone_number_verified: true })
    .where('email', '=', email)
    .execute();

  const flow = await authorize(server, config);
  const page = await passEmailCode(server, flow.client, flow, email);
  t.true(isSecondStep(page));
  t.regex(page.html, /Text a code to <span class="nowrap">••• 2673<\/span>/);
  const digits = page.html.replace(/\D/g, '');
  for (const leak of ['4155552673', '14155552673', '5552673', '415555'])
    t.false(digits.includes(leak) || page.html.includes(leak), `the page does not contain ${leak}`);
  t.false(page.html.includes('415 555'));

  const codePage = await submit(flow.client, page, '/mfa/send-code');
  t.is(codePage.url.pathname.endsWith('/mfa/code'), true);
  t.regex(codePage.html, /••• 2673/);
  t.false(codePage.html.replace(/\D/g, '').includes('5552673'), 'the code page does not show it either');
  // The text itself goes to the phone, which is the point.
  t.regex(await latestCode(server.url, '+14155552673'), /^\d{6}$/);
});

test('after a text code first, the second step shows the email address masked, never in full', async (t) => {
  const { server, config } = await relyingParty(t);
  const email = 'symmetric-case@example.com';
  await withAuthenticatorApp(server, config, email);
  await server.app.services.db
    .updateTable('accounts')
    .set({ phone_number: '+14155552674', phone_number_verified: true })
    .where('email', '=', email)
    .execute();
  const flow = await authorize(server, config);
  const codePage = await submit(flow.client, flow, '/email', { email: '+1 415 555 2674' });
  const page = await submit(flow.client, codePage, '/code', { code: await latestCode(server.url, '+14155552674') });
  t.true(isSecondStep(page));
  t.regex(page.html, /Email a code to <span class="nowrap">s\*\*\*@example\.com<\/span>/);
  t.false(page.html.includes(email));
  t.false(page.html.includes('symmetric-case'));
});

test('the second step has one primary action and shows how many backup codes are left', async (t) => {
  const { server, config } = await relyingParty(t);
  const email = 'one-primary@example.com';
  await withAuthenticatorApp(server, config, email);
  const flow = await authorize(server, config);
  const page = await passEmailCode(server, flow.client, flow, email);
  t.is(page.html.match(/class="button primary"/g)?.length, 1);
  t.regex(page.html, /Use a backup code<\/a>\s*<span class="hint backup-codes-left">\(10 codes left\)<\/span>/);
  const form = await land(flow.client, `${page.url.pathname}/backup-code`);
  t.regex(form.html, /You have <strong>10<\/strong> unused codes/);
});

/** Signs in again in the same browser (prompt=login asks for the first factor anew). */
async function signInAgain(
  server: TestServer,
  config: oidc.Configuration,
  client: PageClient,
  email: string,
  extra: Record<string, string> = {},
) {
  const flow = await authorize(server, config, { prompt: 'login', ...extra }, client);
  return { flow, page: await passEmailCode(server, client, flow, email) };
}

test('"remember this browser" skips the second step for a plain request, with a truthful acr and amr', async (t) => {
  const { server, config } = await relyingParty(t);
  const email = 'remember-me@example.com';
  const app = await withAuthenticatorApp(server, config, email);
  let { step } = app;
  const appCode = async () => {
    const next = await nextAppCode(app.secret, step, server.clock);
    step = next.step;
    return next.code;
  };

  const browser = new PageClient(server.url);
  const first = await signInAgain(server, config, browser, email);
  t.true(isSecondStep(first.page));
  t.regex(first.page.html, /Remember this browser for 30 days/);
  const passed = await submit(browser, first.page, '/mfa/totp', { code: await appCode(), remember: 'yes' });
  t.is((await redeem(config, passed.url, first.flow.check)).acr, 'mfa');
  t.regex(browser.cookieHeader('/'), /fairyid_remembered=/);

  // The same browser, a new sign-in: the first factor only, and the ID token says so.
  const again = await signInAgain(server, config, browser, email);
  t.false(isSecondStep(again.page), 'the remembered browser goes straight on');
  const claims = await redeem(config, again.page.url, again.flow.check);
  t.is(claims.acr, '1fa');
  t.deepEqual(claims.amr, ['otp']);

  // Another browser is not remembered.
  const other = await signInAgain(server, config, new PageClient(server.url), email);
  t.true(isSecondStep(other.page));

  // An app that asks for two factors gets a real second factor, remembered browser or not.
  const strict = await signInAgain(server, config, browser, email, { acr_values: 'mfa' });
  t.true(isSecondStep(strict.page), 'acr_values=mfa still asks for the second step');
  const strictPassed = await submit(browser, strict.page, '/mfa/totp', { code: await appCode() });
  const strictClaims = await redeem(config, strictPassed.url, strict.flow.check);
  t.is(strictClaims.acr, 'mfa');
  t.true((strictClaims.amr as string[]).includes('mfa'));
});

test('a remembered browser is refused for another account, after 30 days, and once forgotten', async (t) => {
  const { server, config } = await relyingParty(t);
  const alice = 'remember-alice@example.com';
  const bob = 'remember-bob@example.com';
  const aliceApp = await withAuthenticatorApp(server, config, alice);
  await withAuthenticatorApp(server, config, bob);

  const browser = new PageClient(server.url);
  const first = await signInAgain(server, config, browser, alice);
  await submit(browser, first.page, '/mfa/totp', {
    code: (await nextAppCode(aliceApp.secret, aliceApp.step, server.clock)).code,
    remember: 'yes',
  });

  // Bob in Alice's remembered browser (its cookie, without her session) still gets his second step:
  // the token is bound to Alice.
  const token = /fairyid_remembered=([^;]+)/.exec(browser.cookieHeader('/'))![1]!;
  const shared = new PageClient(server.url);
  (shared as unknown as { store(line: string): void }).store(`fairyid_remembered=${token}; Path=/`);
  const asBob = await signInAgain(server, config, shared, bob);
  t.true(isSecondStep(asBob.page), 'the token is bound to the account that chose it');

  // A made-up cookie value remembers nobody.
  const forged = new PageClient(server.url);
  (forged as unknown as { store(line: string): void }).store('fairyid_remembered=made-up-token-value; Path=/');
  const forgedSignIn = await signInAgain(server, config, forged, alice);
  t.true(isSecondStep(forgedSignIn.page), 'a made-up token skips nothing');

  // Alice's browser is remembered for her...
  const asAlice = await signInAgain(server, config, browser, alice);
  t.false(isSecondStep(asAlice.page));

  // ... until she forgets it from her security page.
  const security = await land(browser, `${server.url}/account/security`);
  t.is(security.url.pathname, '/account/security');
  t.regex(security.html, /Remembered browsers/);
  t.regex(security.html, /Forget this browser/);
  const account = await accountByEmail(server, alice);
  // Forgetting every browser asks first; cancelling leads back and forgets nothing.
  const asked = await submit(browser, security, '/remembered/forget-all');
  t.is(asked.url.pathname, '/account/security/remembered/forget-all');
  t.regex(asked.html, /<h1 id="page-title">Forget all remembered browsers\?<\/h1>/);
  t.regex(asked.html, /<strong>1 remembered browser<\/strong> will ask for your second step again/);
  t.regex(asked.html, /<a class="button" href="\/account\/security#remembered">Cancel, keep them<\/a>/);
  t.is((await server.app.services.rememberedBrowsers.list(account.id)).length, 1, 'nothing forgotten yet');
  const cancelled = await land(browser, `${server.url}/account/security#remembered`);
  t.is(cancelled.url.pathname, '/account/security', 'the page still stands on the remembered browser');
  const forgotten = await submit(browser, asked, '/remembered/forget-all', { confirm: 'yes' });
  // The page's own session stood on the remembered browser alone: it now needs the second step too.
  t.true(isSecondStep(forgotten), 'the account page asks for the second step at once');
  const afterForget = await signInAgain(server, config, browser, alice);
  t.true(isSecondStep(afterForget.page), 'a forgotten browser asks again');

  // Remembered anew, then 30 days and a moment later: asked again.
  await submit(browser, afterForget.page, '/mfa/totp', {
    code: (await nextAppCode(aliceApp.secret, aliceApp.step + 2, server.clock)).code,
    remember: 'yes',
  });
  const rows = await server.app.services.rememberedBrowsers.list(account.id);
  t.is(rows.length, 1);
  server.clock.advance(30 * 24 * 3600 + 60);
  const expired = await signInAgain(server, config, browser, alice);
  t.true(isSecondStep(expired.page), 'after 30 days the browser is asked again');
});
