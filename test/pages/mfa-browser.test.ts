import type { ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { nextAppCode } from '../helpers/authenticator-app.ts';
import { signInByEmailCode } from '../helpers/browser-sign-in.ts';
import { browserTest } from '../helpers/browser.ts';
import { latestCode } from '../helpers/outbox.ts';
import { discover, pkcePair, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { checkPage, VIEWPORTS, watchComplaints, type Viewport } from '../helpers/viewport-pages.ts';

// Eleven sign-ins by email for one address in a few seconds: the send budget is not what this file tests.
const ENV = { LIMIT_SENDS_PER_RECIPIENT: '100/3600', LIMIT_SENDS_PER_ACCOUNT: '100/3600' };

/** A relying party's authorization in a new browser, signed in by email code up to the page after it. */
async function signInAtApp(
  t: ExecutionContext,
  server: TestServer,
  config: oidc.Configuration,
  viewport: Viewport,
  email: string,
) {
  const page = await VIEWPORTS[viewport].open(t);
  const complaints = watchComplaints(page);
  const { challenge } = await pkcePair();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${server.url}/dev/callback`,
    scope: 'openid',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  await page.goto(url.href);
  await signInByEmailCode(server, page, email);
  return { page, complaints };
}

const atCallback = (page: Page) =>
  page.waitForURL((url) => url.pathname === '/dev/callback' && url.searchParams.has('code'));

async function readBackupCodes(page: Page) {
  return page.locator('.backup-codes code').allTextContents();
}

async function journey(t: ExecutionContext, viewport: Viewport) {
  const server = await startTestServer(t, { env: ENV });
  const email = `two-step-${viewport}@example.com`;
  const { clientId, clientSecret } = await registerClient(server.app, {
    name: 'Pixie Notes',
    redirectUris: [`${server.url}/dev/callback`],
    firstParty: true,
  });
  const config = await discover(server.url, clientId, clientSecret);

  // Enrollment from the account page: the key read from the page, codes computed here as an app would.
  const page = await VIEWPORTS[viewport].open(t);
  const complaints = watchComplaints(page);
  await page.goto(`${server.url}/account/security`);
  await signInByEmailCode(server, page, email);
  await page.waitForURL((url) => url.pathname === '/account/security');
  await checkPage(t, page, viewport, 'account-security', 'Sign-in & security');
  t.regex(await page.locator('.lead').innerText(), /Two-step sign-in is off/);
  await page.getByRole('link', { name: 'Set up an authenticator app' }).click();
  await page.waitForURL((url) => url.pathname === '/account/security/totp');
  await checkPage(t, page, viewport, 'account-totp', 'Set up your authenticator app');
  t.true(await page.locator('.qr-code svg').isVisible(), 'the QR code is drawn in the page');
  const secret = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
  let { code, step } = await nextAppCode(secret, 0, server.clock);
  await page.locator('#code').fill(code);
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.waitForURL((url) => url.pathname === '/account/security/backup-codes');
  await checkPage(t, page, viewport, 'account-backup-codes', 'Save your backup codes');
  const backupCodes = await readBackupCodes(page);
  t.is(backupCodes.length, 10);
  await page.getByRole('link', { name: 'I saved them' }).click();
  await page.waitForURL((url) => url.pathname === '/account/security');
  t.regex(await page.locator('.lead').innerText(), /Two-step sign-in is on/);
  t.regex(await page.getByRole('status').innerText(), /authenticator app is set up/);
  await page.reload();
  await page.goto(`${server.url}/account/security/backup-codes`);
  t.is(new URL(page.url()).pathname, '/account/security', 'the codes are shown once');

  // Signing in at an app now asks for the app's code after the email code.
  const second = await signInAtApp(t, server, config, viewport, email);
  await second.page.waitForURL(/\/interaction\/[^/]+\/mfa$/);
  await checkPage(t, second.page, viewport, 'mfa', 'Confirm it’s you');
  ({ code, step } = await nextAppCode(secret, step, server.clock));
  await second.page.locator('#code').fill(code);
  await second.page.getByRole('button', { name: 'Continue' }).click();
  await atCallback(second.page);

  // A backup code instead of the app.
  const third = await signInAtApp(t, server, config, viewport, email);
  await third.page.waitForURL(/\/interaction\/[^/]+\/mfa$/);
  await third.page.getByRole('link', { name: 'Use a backup code' }).click();
  await checkPage(t, third.page, viewport, 'mfa-backup-code', 'Use a backup code');
  await third.page.locator('#backup-code').fill(backupCodes[0]!);
  await third.page.getByRole('button', { name: 'Continue' }).click();
  await atCallback(third.page);

  t.deepEqual([...complaints, ...second.complaints, ...third.complaints], []);
  return { server, config, email, backupCodes, secret, step };
}

browserTest(
  'phone: authenticator app set up from the account page, then asked for at sign-in; a backup code stands in',
  async (t) => {
    await journey(t, 'phone');
  },
);

browserTest('desktop: the same, then every backup code used up, and a new set made', async (t) => {
  const { server, config, email, backupCodes, secret, step } = await journey(t, 'desktop');
  for (const code of backupCodes.slice(1)) {
    const { page } = await signInAtApp(t, server, config, 'desktop', email);
    await page.waitForURL(/\/interaction\/[^/]+\/mfa$/);
    await page.getByRole('link', { name: 'Use a backup code' }).click();
    await page.locator('#backup-code').fill(code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await atCallback(page);
    await page.context().browser()!.close();
  }

  const { page } = await signInAtApp(t, server, config, 'desktop', email);
  await page.waitForURL(/\/interaction\/[^/]+\/mfa$/);
  t.is(await page.getByRole('link', { name: 'Use a backup code' }).count(), 0, 'with none left, none is offered');
  // A used code typed straight at the form is refused, with the reason.
  const uid = new URL(page.url()).pathname.split('/')[2];
  const used = await page.evaluate(
    async ([path, csrf, code]) => {
      const response = await fetch(path!, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf!, code: code! }),
      });
      return response.status;
    },
    [
      `/interaction/${uid}/mfa/backup-code`,
      await page.locator('input[name="_csrf"]').first().inputValue(),
      backupCodes[0]!,
    ],
  );
  t.is(used, 400);

  const account = await VIEWPORTS.desktop.open(t);
  await account.goto(`${server.url}/account/security`);
  await signInByEmailCode(server, account, email);
  await account.waitForURL(/\/interaction\/[^/]+\/mfa$/);
  await account.locator('#code').fill((await nextAppCode(secret, step, server.clock)).code);
  await account.getByRole('button', { name: 'Continue' }).click();
  await account.waitForURL((url) => url.pathname === '/account/security');
  t.regex(await account.locator('#backup-codes ~ .section-hint').first().innerText(), /0 of 10/);
  await account.getByRole('button', { name: 'Make new backup codes' }).click();
  await account.waitForURL((url) => url.pathname === '/account/security/backup-codes');
  const fresh = await readBackupCodes(account);
  t.is(fresh.length, 10);
  t.false(fresh.some((code) => backupCodes.includes(code)));
  t.regex(await account.locator('main').innerText(), /earlier backup codes no longer work/);
});

async function stepUp(t: ExecutionContext, viewport: Viewport) {
  const server = await startTestServer(t, { env: ENV });
  const email = `step-up-${viewport}@example.com`;
  const { clientId, clientSecret } = await registerClient(server.app, {
    name: 'Pixie Bank',
    redirectUris: [`${server.url}/dev/callback`],
    firstParty: true,
  });
  const config = await discover(server.url, clientId, clientSecret);
  const { challenge } = await pkcePair();
  const page = await VIEWPORTS[viewport].open(t);
  const complaints = watchComplaints(page);
  const authorization = (extra: Record<string, string> = {}) =>
    oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${server.url}/dev/callback`,
      scope: 'openid',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    }).href;

  // The bank asks for two factors from a person who has one: they add an app on the way.
  await page.goto(authorization({ acr_values: 'mfa' }));
  await signInByEmailCode(server, page, email);
  await page.waitForURL(/\/interaction\/[^/]+\/mfa$/);
  await checkPage(t, page, viewport, 'mfa-enroll', 'Add a second step');
  await page.getByRole('link', { name: 'Use an authenticator app' }).click();
  await checkPage(t, page, viewport, 'mfa-totp-setup', 'Set up your authenticator app');
  const secret = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
  await page.locator('#code').fill((await nextAppCode(secret, 0, server.clock)).code);
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.waitForURL(/\/mfa\/backup-codes$/);
  await checkPage(t, page, viewport, 'mfa-backup-codes', 'Save your backup codes');
  t.is((await readBackupCodes(page)).length, 10);
  await page.getByRole('link', { name: 'I saved them, continue' }).click();
  await atCallback(page);

  // With a verified phone number too, a text message can be the second step after the email code.
  await server.app.services.db
    .updateTable('accounts')
    .set({ phone_number: '+14155552671', phone_number_verified: true })
    .where('email', '=', email)
    .execute();
  const other = await VIEWPORTS[viewport].open(t);
  const otherComplaints = watchComplaints(other);
  await other.goto(authorization());
  await signInByEmailCode(server, other, email);
  await other.waitForURL(/\/interaction\/[^/]+\/mfa$/);
  await other.getByRole('button', { name: /Text a code to/ }).click();
  await other.waitForURL(/\/mfa\/code$/);
  await checkPage(t, other, viewport, 'mfa-code', 'Check your phone');
  await other.locator('#code').fill(await latestCode(server.url, '+14155552671'));
  await other.getByRole('button', { name: 'Continue' }).click();
  await atCallback(other);
  t.deepEqual([...complaints, ...otherComplaints], []);
}

browserTest(
  'phone: a relying party asking for two factors has a person enroll on the way; a text code works as the second step',
  async (t) => {
    await stepUp(t, 'phone');
  },
);

browserTest(
  'desktop: a relying party asking for two factors has a person enroll on the way; a text code works as the second step',
  async (t) => {
    await stepUp(t, 'desktop');
  },
);
