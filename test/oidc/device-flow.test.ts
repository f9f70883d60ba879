import test from 'ava';
import type { ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { readForm } from '../helpers/html-form.ts';
import { PageClient } from '../helpers/page-client.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';
import { answerConfirmPage, confirmAndSignIn, openCompleteVerificationUri } from '../helpers/device-approval.ts';

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** A TV-style public client: no secret, no redirect URIs, only the device and refresh grants. */
async function startDevice(t: ExecutionContext) {
  const server = await startTestServer(t);
  const { clientId, clientSecret } = await registerClient(server.app, {
    name: 'Fairy TV',
    authMethod: 'none',
    redirectUris: [],
    postLogoutRedirectUris: [],
    grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'],
  });
  t.is(clientSecret, undefined, 'a public client gets no secret');
  const config = await discover(server.url, clientId);
  const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid email offline_access' });
  return { server, config, device, poll: () => startPolling(t, config, device) };
}

/**
 * Polls as the device would, concurrently with the person's visit to the pages. The promise is
 * marked handled at once (its outcome is asserted later) and polling stops when the test ends.
 */
function startPolling(t: ExecutionContext, config: oidc.Configuration, device: oidc.DeviceAuthorizationResponse) {
  const stop = new AbortController();
  t.teardown(() => stop.abort());
  const polling = oidc.pollDeviceAuthorizationGrant(config, device, undefined, { signal: stop.signal });
  polling.catch(() => {});
  return polling;
}

/** Opens the bare verification URI and types the code into our device-input page. */
async function typeUserCode(browser: PageClient, verificationUri: string, userCode: string) {
  const page = await browser.request(verificationUri);
  const html = await page.text();
  const input = readForm(html);
  return {
    page,
    html,
    submitted: await browser.request(input.action, { form: { ...input.fields, user_code: userCode } }),
  };
}

test('a person approves a device through verification_uri_complete and the polling device gets tokens for them', async (t) => {
  const { server, config, device, poll } = await startDevice(t);
  const polling = poll();
  const browser = new PageClient(server.url);

  const confirmPage = await openCompleteVerificationUri(browser, device);
  t.is(confirmPage.status, 200);
  const { response, html } = await confirmAndSignIn(server, browser, confirmPage, 'tv-owner@example.com');
  t.is(response.status, 200);
  t.regex(html, /Device connected/);
  t.regex(html, /Fairy TV/);

  const tokens = await polling;
  t.truthy(tokens.refresh_token, 'offline_access was granted on the consent page');
  const claims = tokens.claims()!;
  t.deepEqual(claims.amr, ['otp']);
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  t.is(userinfo.email, 'tv-owner@example.com');
});

test('a person can type the user code on the verification page instead', async (t) => {
  const { server, config, device, poll } = await startDevice(t);
  const polling = poll();
  const browser = new PageClient(server.url);

  // RFC 8628 6.1: people retype codes loosely; lower case without the dash must still match.
  const typed = device.user_code.toLowerCase().replace('-', '');
  const { page, html, submitted } = await typeUserCode(browser, device.verification_uri, typed);
  t.is(page.status, 200);
  t.regex(html, /<label for="user_code">/, 'our labelled input, not the library default');
  t.is(submitted.status, 200);
  t.regex(
    await submitted.clone().text(),
    new RegExp(device.user_code),
    'the confirm page shows the code as the device does',
  );

  await confirmAndSignIn(server, browser, submitted, 'typist@example.com');
  const tokens = await polling;
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
  t.is(userinfo.email, 'typist@example.com');
});

test('a wrong user code shows a readable error page on which the person can try again', async (t) => {
  const { server, device } = await startDevice(t);
  const browser = new PageClient(server.url);
  // Same alphabet and shape as real codes (RFC 8628 6.1), so only its value is wrong.
  const wrong = device.user_code === 'BCDF-GHJK' ? 'KJHG-FDCB' : 'BCDF-GHJK';

  const { submitted } = await typeUserCode(browser, device.verification_uri, wrong);
  t.is(submitted.status, 400);
  t.regex(submitted.headers.get('content-type') ?? '', /text\/html/);
  const html = await submitted.text();
  t.regex(html, /That code is not valid/);
  t.notRegex(html, /\bat \S+ \(|node_modules|Error:/, 'no stack trace or internals');
  t.regex(html, /<input id="user_code"[^>]* aria-invalid="true" aria-describedby="user_code-error">/);
  t.regex(
    html,
    /<p class="field-error" id="user_code-error">That code is not valid\./,
    'the message stands at the field',
  );

  // The error page carries a fresh input form; the right code goes on to the confirm page.
  const retry = readForm(html);
  const confirmPage = await browser.request(retry.action, { form: { ...retry.fields, user_code: device.user_code } });
  t.is(confirmPage.status, 200);
  t.is(readForm(await confirmPage.text(), 'op.deviceConfirmForm').fields.user_code, device.user_code);
});

test('denying on the confirm page makes the polling device fail with access_denied', async (t) => {
  const { server, device, poll } = await startDevice(t);
  const polling = poll();
  const browser = new PageClient(server.url);

  const confirmPage = await openCompleteVerificationUri(browser, device);
  const { response, url } = await answerConfirmPage(browser, confirmPage, 'deny');
  t.false(url.pathname.startsWith('/interaction/'), 'no sign-in is asked for a denied device');
  t.regex(await response.text(), /<h1 id="page-title">Not connected<\/h1>/);

  const error = await t.throwsAsync(polling);
  t.true(error instanceof oidc.ResponseBodyError);
  t.is((error as oidc.ResponseBodyError).error, 'access_denied');
});

test('the device pages cannot be framed by another site', async (t) => {
  // Clickjacking "Yes, it is my device" would hand the person's account to an attacker's device.
  const { server, device } = await startDevice(t);
  const browser = new PageClient(server.url);
  const { page } = await typeUserCode(browser, device.verification_uri, device.user_code);
  const confirmPage = await openCompleteVerificationUri(browser, device);
  for (const response of [page, confirmPage]) {
    t.is(response.headers.get('x-frame-options'), 'DENY');
    t.regex(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  }
});
