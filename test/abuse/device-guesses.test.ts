import test, { type ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { readForm } from '../helpers/html-form.ts';
import { PageClient } from '../helpers/page-client.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';

// A five-minute window: a busy machine never sees it end by itself; the test moves the clock past it.
const WINDOW = 300;

async function startDevice(t: ExecutionContext, env: Record<string, string>) {
  const server = await startTestServer(t, {
    env: { LIMIT_DEVICE_CODE_GUESSES_PER_IP: `2/${WINDOW}`, TRUST_PROXY: 'true', ...env },
  });
  const { clientId } = await registerClient(server.app, {
    authMethod: 'none',
    redirectUris: [],
    postLogoutRedirectUris: [],
    grantTypes: ['urn:ietf:params:oauth:grant-type:device_code'],
  });
  const config = await discover(server.url, clientId);
  const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
  return { server, device };
}

/** Types `userCode` on the verification page as a browser at `ip` (behind the proxy) would. */
async function typeCode(browser: PageClient, verificationUri: string, userCode: string, ip: string) {
  const headers = { 'x-forwarded-for': ip };
  const input = readForm(await (await browser.request(verificationUri, { headers })).text());
  const response = await browser.request(input.action, { form: { ...input.fields, user_code: userCode }, headers });
  return { response, html: await response.text() };
}

/** A code of the same alphabet and shape as real ones (RFC 8628 6.1), so only its value is wrong. */
const wrongCode = (right: string) => (right === 'BCDF-GHJK' ? 'KJHG-FDCB' : 'BCDF-GHJK');

test('wrong user codes from one IP stop at LIMIT_DEVICE_CODE_GUESSES_PER_IP, even the right code is refused, another IP is unaffected, and guessing resumes after the window', async (t) => {
  const { server, device } = await startDevice(t, {});
  const browser = new PageClient(device.verification_uri);
  const wrong = wrongCode(device.user_code);

  for (let guess = 0; guess < 2; guess += 1) {
    const answer = await typeCode(browser, device.verification_uri, wrong, '203.0.113.10');
    t.is(answer.response.status, 400);
    t.regex(answer.html, /That code is not valid/);
  }
  const refused = await typeCode(browser, device.verification_uri, device.user_code, '203.0.113.10');
  t.is(refused.response.status, 429);
  t.regex(refused.response.headers.get('content-type') ?? '', /^text\/html/);
  t.regex(
    refused.html,
    /Too many wrong device codes were entered from your network\. Check the code on your device and try again in 5 minutes\./,
  );
  const retryAfter = Number(refused.response.headers.get('retry-after'));
  t.true(retryAfter > WINDOW - 60 && retryAfter <= WINDOW, `Retry-After ${retryAfter}`);
  t.false(refused.html.includes(device.user_code), 'nothing about the code is revealed');

  const elsewhere = await typeCode(
    new PageClient(device.verification_uri),
    device.verification_uri,
    device.user_code,
    '198.51.100.20',
  );
  t.is(elsewhere.response.status, 200, 'another client reaches the confirm page');
  t.notThrows(() => readForm(elsewhere.html, 'op.deviceConfirmForm'));

  server.clock.advance(WINDOW - 60);
  const early = await typeCode(browser, device.verification_uri, device.user_code, '203.0.113.10');
  t.is(early.response.status, 429, 'the window has not ended yet');
  t.true(Number(early.response.headers.get('retry-after')) <= 60);
  server.clock.advance(60);
  const later = await typeCode(browser, device.verification_uri, device.user_code, '203.0.113.10');
  t.is(later.response.status, 200);
  t.notThrows(() => readForm(later.html, 'op.deviceConfirmForm'));
});

test('right user codes do not count as guesses', async (t) => {
  const { device } = await startDevice(t, {});
  const browser = new PageClient(device.verification_uri);
  for (let visit = 0; visit < 3; visit += 1) {
    t.is((await typeCode(browser, device.verification_uri, device.user_code, '203.0.113.10')).response.status, 200);
  }
  const wrong = await typeCode(browser, device.verification_uri, wrongCode(device.user_code), '203.0.113.10');
  t.is(wrong.response.status, 400, 'the budget is still whole for wrong guesses');
});
