import type { ExecutionContext } from 'ava';
import { accountByEmail, signedInAt } from '../helpers/account-pages.ts';
import { nextAppCode } from '../helpers/authenticator-app.ts';
import { signInByEmailCode } from '../helpers/browser-sign-in.ts';
import { browserTest } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';
import { checkPage, VIEWPORTS, watchComplaints, type Viewport } from '../helpers/viewport-pages.ts';
import { accountWithApp, createOrganization } from './console-owner.ts';

const QUEEN = 'queen@example.com';
const PIXIE = 'pixie@example.com';

async function publishedKids(server: TestServer): Promise<string[]> {
  const discovery = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as {
    jwks_uri: string;
  };
  const { keys } = (await (await fetch(discovery.jwks_uri)).json()) as { keys: { kid: string }[] };
  return keys.map((key) => key.kid);
}

async function journey(t: ExecutionContext, viewport: Viewport) {
  const server = await startTestServer(t, { env: { PLATFORM_OWNER_EMAIL: QUEEN } });
  const queen = await accountWithApp(server, QUEEN);
  await signedInAt(server, '/account', PIXIE);
  const pixie = await accountByEmail(server, PIXIE);
  await createOrganization(server, PIXIE, 'Pixie Works', 'pixie-works');

  // The platform owner's normal sign-in: email code, then her authenticator app.
  const page = await VIEWPORTS[viewport].open(t);
  const complaints = watchComplaints(page);
  await page.goto(`${server.url}/account`);
  await signInByEmailCode(server, page, QUEEN);
  await page.waitForURL(/\/interaction\/[^/]+\/mfa$/);
  const { code } = await nextAppCode(queen.app.secret, queen.app.step, server.clock);
  await page.locator('#code').fill(code);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((url) => url.pathname === '/account');

  // Organizations: approve the pending one.
  await page.goto(`${server.url}/platform`);
  await page.waitForURL((url) => url.pathname === '/platform/organizations');
  await checkPage(t, page, viewport, 'platform-organizations', 'Organizations');
  await page.getByRole('button', { name: 'Approve Pixie Works' }).click();
  await page.waitForURL((url) => url.searchParams.get('done') === 'approved');
  t.regex(await page.getByRole('status').innerText(), /The organization is approved/);
  await page.getByRole('link', { name: 'Active' }).click();
  await page.waitForURL((url) => url.searchParams.get('status') === 'active');
  t.true(await page.getByText('Pixie Works').isVisible());
  await checkPage(t, page, viewport, 'platform-organizations-active', 'Organizations');

  // Accounts: find Pixie, suspend her with a reason.
  await page.getByRole('link', { name: 'Accounts' }).click();
  await page.locator('#q').fill('pixie@');
  await page.getByRole('button', { name: 'Search' }).click();
  await checkPage(t, page, viewport, 'platform-accounts', 'Accounts');
  await page.getByRole('link', { name: pixie.fairyname }).click();
  await page.waitForURL((url) => url.pathname === `/platform/accounts/${pixie.id}`);
  await checkPage(t, page, viewport, 'platform-account', `Account ${pixie.fairyname}`);
  t.true(await page.getByText('Pixie Works').isVisible(), 'her organization is listed');
  await page.locator('#reason').fill('Selling fake DUST');
  await page.getByRole('button', { name: 'Suspend account' }).click();
  await page.waitForURL((url) => url.searchParams.get('done') === 'account_suspended');
  t.regex(await page.getByRole('status').innerText(), /The account is suspended/);
  t.true(await page.getByText('Selling fake DUST', { exact: true }).isVisible());
  await checkPage(t, page, viewport, 'platform-account-suspended', `Account ${pixie.fairyname}`);
  const refused = await signInThroughPages(server.url, `${server.url}/account`, PIXIE);
  t.is(refused.response.status, 403, 'her sign-in is refused');
  t.regex(refused.html, /This account cannot sign in/);

  // Signing keys: rotate; the superseded keys wait for the longest token lifetime before they can go.
  const before = await publishedKids(server);
  await page.getByRole('link', { name: 'Signing keys' }).click();
  await page.getByRole('button', { name: 'Rotate signing keys' }).click();
  await page.waitForURL((url) => url.searchParams.get('done') === 'keys_rotated');
  t.regex(await page.getByRole('status').innerText(), /New signing keys are published/);
  await checkPage(t, page, viewport, 'platform-keys', 'Signing keys');
  const after = await publishedKids(server);
  t.is(after.length, before.length * 2, 'the new keys are published beside the old ones');
  t.is(await page.locator('.key-waiting').count(), before.length);
  t.is(await page.getByRole('button', { name: /^Retire / }).count(), 0, 'nothing can be retired yet');
  const { config } = server.app;
  server.clock.advance(Math.max(config.ttl.idToken, config.ttl.accessToken) + config.keysRefreshSeconds + 1);
  await page.reload();
  const retire = page.getByRole('button', { name: /^Retire RS256 key / });
  const label = await retire.getAttribute('aria-label');
  await retire.click();
  await page.waitForURL((url) => url.searchParams.get('done') === 'key_retired');
  const retiredKid = label!.replace('Retire RS256 key ', '');
  t.false((await publishedKids(server)).includes(retiredKid), 'the retired key is no longer published');
  t.is(await page.locator('.key-retired').count(), 1);

  // The audit log shows what she did, filtered.
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.locator('#type').selectOption('account_suspended');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL((url) => url.searchParams.get('type') === 'account_suspended');
  t.regex(await page.locator('.platform-events').innerText(), /Selling fake DUST/);
  t.regex(await page.locator('.platform-events').innerText(), new RegExp(queen.id));
  await checkPage(t, page, viewport, 'platform-audit', 'Audit log');

  // Apps and one app's details.
  await page.getByRole('link', { name: 'Apps' }).click();
  await checkPage(t, page, viewport, 'platform-clients', 'Apps');
  await page.locator('.platform-item a').first().click();
  await page.waitForURL((url) => url.pathname.startsWith('/platform/clients/'));
  t.true(await page.getByText('Client id').isVisible());

  t.deepEqual(complaints, []);
}

browserTest('phone: a platform owner approves an organization, suspends an account and rotates keys', (t) =>
  journey(t, 'phone'),
);
browserTest('desktop: a platform owner approves an organization, suspends an account and rotates keys', (t) =>
  journey(t, 'desktop'),
);
