import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { type Authorization, land } from '../helpers/authorization.ts';
import { federationSetUp } from '../helpers/federation.ts';
import { startHungServer } from '../helpers/hung-server.ts';
import { continueWith } from '../helpers/upstream-provider.ts';

type Context = Awaited<ReturnType<typeof setUp>>;
const test = anyTest as TestFn<Context>;

// One FairyID for the file, with the shortest timeout: each test changes the upstream, so they run one at a time.
const cleanups: (() => unknown)[] = [];
const fileScope = { teardown: (cleanup: () => unknown) => cleanups.push(cleanup) } as unknown as ExecutionContext;
test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function setUp() {
  const hung = await startHungServer(fileScope);
  const federation = await federationSetUp(fileScope, {
    FEDERATION_TIMEOUT_SECONDS: '1',
    FEDERATION_PROVIDERS: 'acme,stuck',
    FEDERATION_STUCK_ISSUER: hung.url,
    FEDERATION_STUCK_CLIENT_ID: 'fairyid',
    FEDERATION_STUCK_CLIENT_SECRET: 'never-used-secret',
    FEDERATION_STUCK_NAME: 'Stuck SSO',
  });
  return { ...federation, hung };
}

test.before(async (t) => {
  t.context = await setUp();
});

test.beforeEach((t) => {
  Object.assign(t.context.acme.state, { hangToken: false, deny: undefined, tokenStatus: undefined });
  t.context.acme.state.person = { sub: 'acme-outage', email: 'o@acme.example', email_verified: true };
});

/** The page offers the sign-in page again, and that page works. */
async function offersAnotherWay(t: ExecutionContext<Context>, signIn: Authorization, html: string) {
  const uid = signIn.url.pathname.split('/')[2];
  t.true(html.includes(`href="/interaction/${uid}"`));
  t.regex((await land(signIn.client, `/interaction/${uid}`)).html, /action="\/interaction\/[^/]+\/email"/);
}

test.serial(
  'a provider that accepts the connection and never answers ends on a clear page when our timeout fires',
  async (t) => {
    const signIn = await t.context.signInPage();
    const page = await continueWith(signIn.client, signIn, 'stuck');
    t.is(page.response.status, 502);
    t.regex(page.html, /Stuck SSO is not answering just now/);
    t.true(t.context.hung.accepted() >= 1);
    await offersAnotherWay(t, signIn, page.html);
  },
);

test.serial('a token endpoint that never answers ends on a clear page when our timeout fires', async (t) => {
  t.context.acme.state.hangToken = true;
  const before = t.context.acme.state.tokenRequests;
  const signIn = await t.context.signInPage();
  const page = await continueWith(signIn.client, signIn, 'acme');
  t.is(page.response.status, 502);
  t.regex(page.html, /Acme SSO did not answer in time/);
  t.is(t.context.acme.state.tokenRequests, before + 1);
  await offersAnotherWay(t, signIn, page.html);
});

test.serial('an answer that comes back after its flow expired is refused before its code is redeemed', async (t) => {
  const before = t.context.acme.state.tokenRequests;
  const signIn = await t.context.signInPage();
  const page = await continueWith(signIn.client, signIn, 'acme', (callback) => {
    // Eleven minutes at the upstream: longer than a flow waits (ten).
    t.context.server.clock.advance(11 * 60);
    return callback;
  });
  t.is(page.response.status, 400);
  t.regex(page.html, /does not belong to a sign-in in progress: it expired/);
  t.is(t.context.acme.state.tokenRequests, before);
});
