import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { ExecutionContext } from 'ava';
import type { Page } from 'playwright-core';
import { accountByEmail, ageSignIn, signedInAt } from '../helpers/account-pages.ts';
import { nextAppCode } from '../helpers/authenticator-app.ts';
import { signInByEmailCode } from '../helpers/browser-sign-in.ts';
import { browserTest } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { signInThroughPages } from '../helpers/sign-in.ts';
import { checkPage, VIEWPORTS, watchComplaints, type Viewport } from '../helpers/viewport-pages.ts';
import { RECENT_SECOND_FACTOR_SECONDS } from '../../src/platform-console/platform-console.routes.ts';
import { accountWithApp, createOrganization } from './console-owner.ts';

const QUEEN = 'queen@example.com';
const PIXIE = 'pixie@example.com';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/**
 * axe-core's WCAG A and AA rules over the page as it stands. Evaluated through the DevTools protocol,
 * which the page's CSP does not govern, so the page itself still loads no script.
 */
async function accessibilityProblems(page: Page): Promise<string[]> {
  await page.evaluate(await readFile(AXE, 'utf8'));
  const violations = await page.evaluate<{ id: string; nodes: { target: string[] }[] }[]>(`
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
      .then((result) => result.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => ({ target: n.target })) })))`);
  return violations.map(
    (violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
  );
}

/** The page's screenshot and size checks, and no accessibility rule broken. */
async function checkConsolePage(t: ExecutionContext, page: Page, viewport: Viewport, name: string, title: string) {
  await checkPage(t, page, viewport, name, title);
  t.deepEqual(await accessibilityProblems(page), [], `${name}: accessibility`);
}

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
  const first = await nextAppCode(queen.app.secret, queen.app.step, server.clock);
  queen.app.step = first.step;
  await page.locator('#code').fill(first.code);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((url) => url.pathname === '/account');

  // Organizations: approve the pending one.
  await page.goto(`${server.url}/platform`);
  await page.waitForURL((url) => url.pathname === '/platform/organizations');
  await checkConsolePage(t, page, viewport, 'platform-organizations', 'Organizations');
  await page.getByRole('button', { name: 'Approve Pixie Works' }).click();
  await page.waitForURL((url) => url.searchParams.get('done') === 'approved');
  t.regex(await page.getByRole('status').innerText(), /The organization is approved/);
  await page.getByRole('link', { name: 'Active' }).click();
  await page.waitForURL((url) => url.searchParams.get('status') === 'active');
  t.true(await page.getByText('Pixie Works').isVisible());
  await checkConsolePage(t, page, viewport, 'platform-organizations-active', 'Organizations');

  // Accounts: find Pixie, suspend her with a reason.
  await page.getByRole('link', { name: 'Accounts' }).click();
  await page.locator('#q').fill('pixie@');
  await page.getByRole('button', { name: 'Search' }).click();
  await checkConsolePage(t, page, viewport, 'platform-accounts', 'Accounts');
  await page.getByRole('link', { name: pixie.fairyname }).click();
  await page.waitForURL((url) => url.pathname === `/platform/accounts/${pixie.id}`);
  await checkConsolePage(t, page, viewport, 'platform-account', `Account ${pixie.fairyname}`);
  t.true(await page.getByText('Pixie Works').isVisible(), 'her organization is listed');
  await page.locator('#reason').fill('Selling fake DUST');
  await page.getByRole('button', { name: 'Suspend account' }).click();
  await page.waitForURL((url) => url.searchParams.get('done') === 'account_suspended');
  t.regex(await page.getByRole('status').innerText(), /The account is suspended/);
  t.true(await page.getByText('Selling fake DUST', { exact: true }).isVisible());
  await checkConsolePage(t, page, viewport, 'platform-account-suspended', `Account ${pixie.fairyname}`);
  const refused = await signInThroughPages(server.url, `${server.url}/account`, PIXIE);
  t.is(refused.response.status, 403, 'her sign-in is refused');
  t.regex(refused.html, /This account cannot sign in/);

  // Signing keys: rotate; the superseded keys wait for the longest token lifetime before they can go.
  const before = await publishedKids(server);
  await page.getByRole('link', { name: 'Signing keys' }).click();
  await page.getByRole('button', { name: 'Rotate signing keys' }).click();
  await page.waitForURL((url) => url.searchParams.get('done') === 'keys_rotated');
  t.regex(await page.getByRole('status').innerText(), /New signing keys are published/);
  await checkConsolePage(t, page, viewport, 'platform-keys', 'Signing keys');
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

  // Her second factor grows old: the console sends her through sign-in with it again, and back.
  await ageSignIn(server, QUEEN, RECENT_SECOND_FACTOR_SECONDS + 60);
  await page.getByRole('link', { name: 'Audit log' }).click();
  await signInByEmailCode(server, page, QUEEN);
  await page.waitForURL(/\/interaction\/[^/]+\/mfa$/);
  const again = await nextAppCode(queen.app.secret, queen.app.step, server.clock);
  await page.locator('#code').fill(again.code);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((url) => url.pathname === '/platform/audit');

  // The audit log shows what she did, filtered.
  await page.locator('#type').selectOption('account_suspended');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL((url) => url.searchParams.get('type') === 'account_suspended');
  t.regex(await page.locator('.platform-events').innerText(), /Selling fake DUST/);
  t.regex(await page.locator('.platform-events').innerText(), new RegExp(queen.id));
  await checkConsolePage(t, page, viewport, 'platform-audit', 'Audit log');

  // Apps and one app's details.
  await page.getByRole('link', { name: 'Apps' }).click();
  await checkConsolePage(t, page, viewport, 'platform-clients', 'Apps');
  await page.locator('.platform-item a').first().click();
  await page.waitForURL((url) => url.pathname.startsWith('/platform/clients/'));
  t.true(await page.getByText('Client id').isVisible());

  t.deepEqual(complaints, []);

  // A browser that is not a platform owner's finds nothing there.
  const outsider = await VIEWPORTS[viewport].open(t);
  const response = await outsider.goto(`${server.url}/platform/organizations`);
  t.is(response?.status(), 404);
  await checkPage(t, outsider, viewport, 'platform-outsider', 'Page not found');
}

browserTest('phone: a platform owner approves an organization, suspends an account and rotates keys', (t) =>
  journey(t, 'phone'),
);
browserTest('desktop: a platform owner approves an organization, suspends an account and rotates keys', (t) =>
  journey(t, 'desktop'),
);
