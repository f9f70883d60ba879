import test, { type ExecutionContext } from 'ava';
import { outboxMessages } from '../helpers/outbox.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { askForCode, openSignInPage, type SignInPage } from '../helpers/sign-in-pages.ts';

// Five-minute windows: a busy machine never sees one end by itself; the test moves the clock past it.
const WINDOW = 300;

/** Sign-in pages opened ahead, so that the sends under test follow each other closely. */
async function signInPages(server: TestServer, count: number): Promise<SignInPage[]> {
  return Promise.all(Array.from({ length: count }, () => openSignInPage(server)));
}

function isRefusedForVolume(t: ExecutionContext, refused: { status: number; response: Response; html: string }) {
  t.is(refused.status, 429);
  t.regex(refused.html, /Too many codes were asked for\. Try again in 5 minutes\./);
  const retryAfter = Number(refused.response.headers.get('retry-after'));
  t.true(retryAfter > WINDOW - 60 && retryAfter <= WINDOW, `Retry-After ${retryAfter}`);
}

test('codes to one address stop at LIMIT_SENDS_PER_RECIPIENT, other addresses are unaffected, and sending resumes after the window', async (t) => {
  const server = await startTestServer(t, { env: { LIMIT_SENDS_PER_RECIPIENT: `2/${WINDOW}` } });
  const [first, second, third, other] = await signInPages(server, 4);

  t.is((await askForCode(first!.client, first!.html, 'ada@example.com')).status, 303);
  t.is(
    (await askForCode(second!.client, second!.html, 'ADA@example.com')).status,
    303,
    'the address is one recipient whatever its case',
  );
  const refused = await askForCode(third!.client, third!.html, 'ada@example.com');
  isRefusedForVolume(t, refused);
  t.true(refused.html.includes('value="ada@example.com"'), 'back on the sign-in form with the address kept');
  t.is(
    (await askForCode(other!.client, other!.html, 'grace@example.com')).status,
    303,
    'another address from the same IP still gets codes',
  );
  t.is((await outboxMessages(server.url)).filter((message) => message.to === 'ada@example.com').length, 2);

  server.clock.advance(WINDOW - 60);
  const late = await askForCode(third!.client, third!.html, 'ada@example.com');
  t.is(late.status, 429, 'the window has not ended yet');
  t.true(Number(late.response.headers.get('retry-after')) <= 60);
  server.clock.advance(60);
  t.is((await askForCode(third!.client, third!.html, 'ada@example.com')).status, 303, 'a new window, a new budget');
  t.is((await outboxMessages(server.url)).filter((message) => message.to === 'ada@example.com').length, 3);
});

test('texts to one phone number stop at the same per-recipient limit', async (t) => {
  const server = await startTestServer(t, { env: { LIMIT_SENDS_PER_RECIPIENT: `2/${WINDOW}` } });
  const pages = await signInPages(server, 3);
  t.is((await askForCode(pages[0]!.client, pages[0]!.html, '+1 415 555 2671')).status, 303);
  t.is(
    (await askForCode(pages[1]!.client, pages[1]!.html, '+14155552671')).status,
    303,
    'one phone however it is written',
  );
  isRefusedForVolume(t, await askForCode(pages[2]!.client, pages[2]!.html, '+1 (415) 555-2671'));
  t.is((await outboxMessages(server.url)).length, 2);
});

test('codes from one IP stop at LIMIT_SENDS_PER_IP across addresses and phones, another IP is unaffected, and sending resumes after the window', async (t) => {
  // Behind a proxy, the client's address comes from X-Forwarded-For: two clients on one test machine.
  const server = await startTestServer(t, { env: { LIMIT_SENDS_PER_IP: `2/${WINDOW}`, TRUST_PROXY: 'true' } });
  const fromA = { 'x-forwarded-for': '203.0.113.10' };
  const fromB = { 'x-forwarded-for': '198.51.100.20' };
  const [first, second, third, other] = await signInPages(server, 4);

  t.is((await askForCode(first!.client, first!.html, 'one@example.com', fromA)).status, 303);
  t.is((await askForCode(second!.client, second!.html, '+44 20 7946 0958', fromA)).status, 303);
  isRefusedForVolume(t, await askForCode(third!.client, third!.html, 'three@example.com', fromA));
  t.is(
    (await askForCode(other!.client, other!.html, 'three@example.com', fromB)).status,
    303,
    'another client is not held back',
  );
  t.is((await outboxMessages(server.url)).length, 3);

  server.clock.advance(WINDOW);
  t.is((await askForCode(third!.client, third!.html, 'three@example.com', fromA)).status, 303);
});
