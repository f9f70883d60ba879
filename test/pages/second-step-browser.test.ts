import { readFile } from 'node:fs/promises';
import type { ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { nextAppCode } from '../helpers/authenticator-app.ts';
import { signInByEmailCode } from '../helpers/browser-sign-in.ts';
import { browserTest, SCREENSHOTS } from '../helpers/browser.ts';
import { discover, pkcePair, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { checkPage, VIEWPORTS, watchComplaints, type Viewport } from '../helpers/viewport-pages.ts';

const ENV = { LIMIT_SENDS_PER_RECIPIENT: '100/3600', LIMIT_SENDS_PER_ACCOUNT: '100/3600' };

/** Light and dark screenshots of the page as it stands: `<name>-<viewport>-<scheme>.png`. */
async function bothSchemes(page: Page, viewport: Viewport, name: string) {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: `${SCREENSHOTS}${name}-${viewport}-${colorScheme}.png`, fullPage: true });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** Signs in on the way to the security page and turns on an authenticator app; stops on the backup codes page. */
async function setUpApp(server: TestServer, page: Page, email: string) {
  await page.goto(`${server.url}/account/security`);
  await signInByEmailCode(server, page, email);
  await page.waitForURL((url) => url.pathname === '/account/security');
  await page.getByRole('link', { name: 'Set up an authenticator app' }).click();
  await page.waitForURL((url) => url.pathname === '/account/security/totp');
  const secret = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
  const { code, step } = await nextAppCode(secret, 0, server.clock);
  await page.locator('#code').fill(code);
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.waitForURL((url) => url.pathname === '/account/security/backup-codes');
  return { secret, step };
}

type Box = { x: number; y: number; width: number; height: number };
const overlaps = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

browserTest(
  'backup codes on a 360 px phone: one column, nothing overlaps, and copy, download and print work',
  async (t) => {
    const server = await startTestServer(t, { env: ENV });
    const page = await VIEWPORTS.phone.open(t);
    await page.setViewportSize({ width: 360, height: 780 });
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    // Printing opens the system's dialog; the test counts the call instead.
    await page.addInitScript('window.__printed = 0; window.print = () => { window.__printed += 1; };');
    const complaints = watchComplaints(page);
    await setUpApp(server, page, 'codes-on-a-phone@example.com');
    await checkPage(t, page, 'phone', 'backup-codes-360', 'Save your backup codes');
    await bothSchemes(page, 'phone', 'backup-codes-360');

    const codes = page.locator('.backup-codes code');
    const texts = await codes.allTextContents();
    t.is(texts.length, 10);
    const boxes = (await Promise.all((await codes.all()).map((code) => code.boundingBox()))) as Box[];
    const list = (await page.locator('.backup-codes').boundingBox())!;
    t.is(new Set(boxes.map((box) => Math.round(box.x))).size, 1, 'one column');
    for (const [index, box] of boxes.entries()) {
      t.true(box.x + box.width <= list.x + list.width, `code ${index + 1} stays inside the list`);
      for (const other of boxes.slice(index + 1)) t.false(overlaps(box, other), `code ${index + 1} overlaps none`);
    }

    await page.getByRole('button', { name: 'Copy all' }).click();
    await page.getByText(/Copied 10 codes/).waitFor();
    const copied = await page.evaluate<string>('navigator.clipboard.readText()');
    for (const code of texts) t.true(copied.includes(code), `the copy has ${code}`);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download .txt' }).click(),
    ]);
    t.is(download.suggestedFilename(), 'fairyid-backup-codes.txt');
    const saved = await readFile((await download.path())!, 'utf8');
    for (const code of texts) t.true(saved.includes(code), `the file has ${code}`);

    await page.getByRole('button', { name: 'Print' }).click();
    t.is(await page.evaluate<number>('window.__printed'), 1);
    t.deepEqual(complaints, []);
  },
);

browserTest('desktop: the backup codes sit in two columns, without overlap', async (t) => {
  const server = await startTestServer(t, { env: ENV });
  const page = await VIEWPORTS.desktop.open(t);
  const complaints = watchComplaints(page);
  await setUpApp(server, page, 'codes-on-a-desktop@example.com');
  await checkPage(t, page, 'desktop', 'backup-codes', 'Save your backup codes');
  await bothSchemes(page, 'desktop', 'backup-codes');
  const boxes = (await Promise.all(
    (await page.locator('.backup-codes code').all()).map((code) => code.boundingBox()),
  )) as Box[];
  t.is(new Set(boxes.map((box) => Math.round(box.x))).size, 2, 'two columns');
  for (const [index, box] of boxes.entries()) for (const other of boxes.slice(index + 1)) t.false(overlaps(box, other));
  t.true(await page.getByRole('button', { name: 'Download .txt' }).isVisible());
  t.deepEqual(complaints, []);
});

async function secondStep(t: ExecutionContext, viewport: Viewport) {
  const server = await startTestServer(t, { env: ENV });
  const email = `second-step-${viewport}@example.com`;
  const setup = await VIEWPORTS[viewport].open(t);
  const { secret, step } = await setUpApp(server, setup, email);
  await server.app.services.db
    .updateTable('accounts')
    .set({ phone_number: '+14155552673', phone_number_verified: true })
    .where('email', '=', email)
    .execute();
  const { clientId, clientSecret } = await registerClient(server.app, {
    name: 'Pixie Notes',
    redirectUris: [`${server.url}/dev/callback`],
    firstParty: true,
  });
  const config = await discover(server.url, clientId, clientSecret);
  const { challenge } = await pkcePair();
  const authorization = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${server.url}/dev/callback`,
    scope: 'openid',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    prompt: 'login',
  }).href;

  const page = await VIEWPORTS[viewport].open(t);
  const complaints = watchComplaints(page);
  await page.goto(authorization);
  await signInByEmailCode(server, page, email);
  await page.waitForURL(/\/interaction\/[^/]+\/mfa$/);
  await checkPage(t, page, viewport, 'second-step', 'Confirm it’s you');
  await bothSchemes(page, viewport, 'second-step');
  const html = await page.content();
  t.false(html.replace(/\D/g, '').includes('5552673'), 'the full number is not in the page');
  t.true(await page.getByRole('button', { name: 'Text a code to ••• 2673' }).isVisible());
  t.regex(await page.locator('main').innerText(), /10 codes left/);
  t.is(await page.locator('.button.primary:visible').count(), 1, 'one primary action');

  await page.getByLabel('Remember this browser for 30 days').check();
  const next = await nextAppCode(secret, step, server.clock);
  await page.locator('#code').fill(next.code);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((url) => url.pathname === '/dev/callback');

  // The same browser signs in again: no second step this time.
  await page.goto(authorization);
  await signInByEmailCode(server, page, email);
  await page.waitForURL((url) => url.pathname === '/dev/callback');

  // Its security page lists it, to forget.
  await page.goto(`${server.url}/account/security#remembered`);
  await page.waitForURL((url) => url.pathname === '/account/security');
  await checkPage(t, page, viewport, 'security-remembered', 'Sign-in & security');
  await bothSchemes(page, viewport, 'security-remembered');
  t.true(await page.getByRole('button', { name: 'Forget this browser' }).isVisible());

  // Forgetting them all asks first; cancelling keeps them.
  await page.getByRole('button', { name: 'Forget all browsers' }).click();
  await page.getByRole('heading', { level: 1, name: 'Forget all remembered browsers?' }).waitFor();
  await checkPage(t, page, viewport, 'security-forget-all-confirm', 'Forget all remembered browsers?');
  await bothSchemes(page, viewport, 'security-forget-all-confirm');
  await page.getByRole('link', { name: 'Cancel, keep them' }).click();
  await page.waitForURL((url) => url.pathname === '/account/security');
  t.true(await page.getByRole('button', { name: 'Forget this browser' }).isVisible(), 'cancelling keeps it');
  await page.getByRole('button', { name: 'Forget all browsers' }).click();
  await page.getByRole('heading', { level: 1, name: 'Forget all remembered browsers?' }).waitFor();
  await page.getByRole('button', { name: 'Forget all browsers' }).click();
  // This page stood on the remembered browser alone: forgotten, it asks for the second step.
  // (The browser carries the page's #remembered through the redirects.)
  await page.waitForURL((url) => /^\/interaction\/[^/]+\/mfa$/.test(url.pathname));
  await page.getByRole('heading', { level: 1, name: 'Confirm it’s you' }).waitFor();
  t.deepEqual(complaints, []);
}

browserTest(
  'phone: the second step masks the number, offers to remember the browser, and the browser is remembered',
  async (t) => {
    await secondStep(t, 'phone');
  },
);

browserTest(
  'desktop: the second step masks the number, offers to remember the browser, and the browser is remembered',
  async (t) => {
    await secondStep(t, 'desktop');
  },
);
