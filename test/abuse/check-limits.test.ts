import test, { type ExecutionContext } from 'ava';
import { latestCode } from '../helpers/outbox.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { askForCode, openSignInPage, otherThan, submitCode } from '../helpers/sign-in-pages.ts';

// Five-minute windows, within a code's ten-minute life: a busy machine never sees one end by itself;
// the test moves the clock past it.
const WINDOW = 300;

/** A sign-in flow waiting on its code page for `identifier`, and the code it was sent. */
async function codeWaiting(server: TestServer, identifier: string, headers: Record<string, string> = {}) {
  const page = await openSignInPage(server);
  const asked = await askForCode(page.client, page.html, identifier, headers);
  if (asked.status !== 303) throw new Error(`asking for a code answered ${asked.status}`);
  return { client: page.client, html: asked.html, code: await latestCode(server.url, identifier) };
}

function isRefusedForVolume(t: ExecutionContext, refused: { response: Response; html: string }) {
  t.is(refused.response.status, 429);
  t.regex(refused.html, /Too many attempts\. Try again in 5 minutes\./);
  t.true(refused.html.includes('Sign-in code'), 'the code page stays, so the person can try again later');
  const retryAfter = Number(refused.response.headers.get('retry-after'));
  t.true(retryAfter > WINDOW - 60 && retryAfter <= WINDOW, `Retry-After ${retryAfter}`);
}

test('checks for one address stop at LIMIT_CHECKS_PER_RECIPIENT across its sign-ins, even for the right code, and resume after the window', async (t) => {
  const server = await startTestServer(t, { env: { LIMIT_CHECKS_PER_RECIPIENT: `3/${WINDOW}` } });
  // Two sign-ins for one address (two browsers): the budget belongs to the address, not to one code.
  const first = await codeWaiting(server, 'ada@example.com');
  const second = await codeWaiting(server, 'ada@example.com');
  const other = await codeWaiting(server, 'grace@example.com');

  t.is((await submitCode(first.client, first.html, otherThan(first.code))).response.status, 400);
  t.is((await submitCode(first.client, first.html, otherThan(first.code))).response.status, 400);
  t.is((await submitCode(second.client, second.html, otherThan(second.code))).response.status, 400);
  isRefusedForVolume(t, await submitCode(second.client, second.html, second.code));
  t.is(
    (await submitCode(other.client, other.html, other.code)).response.status,
    303,
    'another address from the same IP is not held back',
  );

  server.clock.advance(WINDOW - 60);
  const late = await submitCode(second.client, second.html, second.code);
  t.is(late.response.status, 429, 'the window has not ended yet');
  t.true(Number(late.response.headers.get('retry-after')) <= 60);
  server.clock.advance(60);
  t.is(
    (await submitCode(second.client, second.html, second.code)).response.status,
    303,
    'the refused code was not used up',
  );
});

test('checks from one IP stop at LIMIT_CHECKS_PER_IP across addresses, another IP is unaffected, and they resume after the window', async (t) => {
  const server = await startTestServer(t, { env: { LIMIT_CHECKS_PER_IP: `3/${WINDOW}`, TRUST_PROXY: 'true' } });
  const fromA = { 'x-forwarded-for': '203.0.113.10' };
  const fromB = { 'x-forwarded-for': '198.51.100.20' };
  const one = await codeWaiting(server, 'one@example.com');
  const phone = await codeWaiting(server, '+14155552671');
  const three = await codeWaiting(server, 'three@example.com');

  t.is((await submitCode(one.client, one.html, otherThan(one.code), fromA)).response.status, 400);
  t.is((await submitCode(phone.client, phone.html, otherThan(phone.code), fromA)).response.status, 400);
  t.is((await submitCode(three.client, three.html, otherThan(three.code), fromA)).response.status, 400);
  isRefusedForVolume(t, await submitCode(three.client, three.html, three.code, fromA));
  t.is(
    (await submitCode(one.client, one.html, one.code, fromB)).response.status,
    303,
    'another client is not held back',
  );

  server.clock.advance(WINDOW);
  t.is((await submitCode(three.client, three.html, three.code, fromA)).response.status, 303);
});
