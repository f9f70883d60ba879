import test, { type ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { type HtmlForm, readForm } from '../helpers/html-form.ts';
import { PageClient } from '../helpers/page-client.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer, twoInstances } from '../helpers/server.ts';

const LIMIT = 10;
const BURST = 50;
// A long window: the whole burst lands in it, and nothing waits for it to end.
const LIMITS = { LIMIT_DEVICE_CODE_GUESSES_PER_IP: `${LIMIT}/3600` };
// Two instances share limits only through shared storage: real Postgres and Redis.
const shared = process.env.DATABASE_URL && process.env.REDIS_URL ? test : test.skip;

async function startDeviceFlow(server: TestServer) {
  const { clientId } = await registerClient(server.app, {
    authMethod: 'none',
    redirectUris: [],
    postLogoutRedirectUris: [],
    grantTypes: ['urn:ietf:params:oauth:grant-type:device_code'],
  });
  return oidc.initiateDeviceAuthorization(await discover(server.url, clientId), { scope: 'openid' });
}

/** A browser with the verification page open on `server`, ready to submit a code. */
async function openVerificationPage(server: TestServer, path: string) {
  const browser = new PageClient(server.url);
  const form = readForm(await (await browser.request(path)).text());
  return { browser, form };
}

/**
 * Submits a wrong code from every open page at once, all from one client IP (the browsers all
 * connect from 127.0.0.1): how many got looked up (400, "not valid"), and how many were refused (429).
 */
async function guessAtOnce(pages: { browser: PageClient; form: HtmlForm }[], wrongCode: string) {
  const statuses = await Promise.all(
    pages.map(async ({ browser, form }) => {
      const response = await browser.request(form.action, { form: { ...form.fields, user_code: wrongCode } });
      await response.body?.cancel();
      return response.status;
    }),
  );
  return {
    checked: statuses.filter((status) => status === 400).length,
    refused: statuses.filter((status) => status === 429).length,
    others: statuses.filter((status) => status !== 400 && status !== 429),
  };
}

const wrongCode = (right: string) => (right === 'BCDF-GHJK' ? 'KJHG-FDCB' : 'BCDF-GHJK');

function assertLimitHeld(t: ExecutionContext, outcome: Awaited<ReturnType<typeof guessAtOnce>>) {
  t.deepEqual(outcome.others, [], 'every guess is either checked or refused');
  t.is(outcome.checked, LIMIT, `${BURST} parallel guesses: exactly the limit of ${LIMIT} is looked up`);
  t.is(outcome.refused, BURST - LIMIT);
}

// On the embedded store each submission happens to run to its lookup without yielding to another, so
// a check-then-act limit only leaks here with Redis and Postgres (as in CI); the limit holds on both.
test(`${BURST} parallel wrong device codes from one IP get no more than LIMIT_DEVICE_CODE_GUESSES_PER_IP looked up`, async (t) => {
  const server = await startTestServer(t, { env: LIMITS });
  const device = await startDeviceFlow(server);
  const path = new URL(device.verification_uri).pathname;
  const pages = await Promise.all(Array.from({ length: BURST }, () => openVerificationPage(server, path)));
  assertLimitHeld(t, await guessAtOnce(pages, wrongCode(device.user_code)));

  const { browser, form } = await openVerificationPage(server, path);
  const right = await browser.request(form.action, { form: { ...form.fields, user_code: device.user_code } });
  t.is(right.status, 429, 'once the burst spent the budget, even the right code waits for the window');
});

shared(
  `${BURST} parallel wrong device codes from one IP across two instances get no more than the limit looked up`,
  async (t) => {
    const { a, b } = await twoInstances(t, LIMITS);
    const device = await startDeviceFlow(a);
    const path = new URL(device.verification_uri).pathname;
    // The balancer sends every other browser to B.
    const pages = await Promise.all(
      Array.from({ length: BURST }, (_, index) => openVerificationPage(index % 2 ? b : a, path)),
    );
    assertLimitHeld(t, await guessAtOnce(pages, wrongCode(device.user_code)));
  },
);

test('a guess sent to the verification path with a trailing slash is counted and refused too; one in other letter case finds no page', async (t) => {
  const server = await startTestServer(t, { env: { LIMIT_DEVICE_CODE_GUESSES_PER_IP: '2/3600' } });
  const device = await startDeviceFlow(server);
  const path = new URL(device.verification_uri).pathname;
  const wrong = wrongCode(device.user_code);
  const variants = [`${path}/`, path.toUpperCase(), `${path.toUpperCase()}/`, `${path}/`, `${path}/`];
  const statuses: number[] = [];
  for (const variant of variants) {
    const { browser, form } = await openVerificationPage(server, path);
    const response = await browser.request(variant, { form: { ...form.fields, user_code: wrong } });
    statuses.push(response.status);
  }
  // oidc-provider's router takes a trailing slash, so that variant looks the code up and counts like any
  // guess; our mount hands it only the paths it serves, in their own case, so other cases end at our 404.
  t.deepEqual(statuses, [400, 404, 404, 400, 429]);
});
