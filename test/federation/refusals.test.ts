import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { type Authorization, land, redeem, submit } from '../helpers/authorization.ts';
import { ACME_SECRET, federationSetUp } from '../helpers/federation.ts';
import { PageClient } from '../helpers/page-client.ts';
import { continueWith, newKey } from '../helpers/upstream-provider.ts';

type Context = Awaited<ReturnType<typeof federationSetUp>>;
const test = anyTest as TestFn<Context>;

// One FairyID and its upstreams for the whole file: every test changes the upstream's behaviour, so
// they run one at a time and start from a well-behaved upstream.
const cleanups: (() => unknown)[] = [];
// ava allows no teardown in hooks: the set-up's cleanups run after the last test instead.
const fileScope = { teardown: (cleanup: () => unknown) => cleanups.push(cleanup) } as unknown as ExecutionContext;
test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

test.before(async (t) => {
  t.context = await federationSetUp(fileScope, {
    FEDERATION_PROVIDERS: 'acme,down',
    // Nothing listens there: discovery fails at once.
    FEDERATION_DOWN_ISSUER: 'http://127.0.0.4:9',
    FEDERATION_DOWN_CLIENT_ID: 'fairyid',
    FEDERATION_DOWN_CLIENT_SECRET: 'unused-secret',
  });
});

test.beforeEach((t) => {
  const { state } = t.context.acme;
  Object.assign(state, { deny: undefined, tokenStatus: undefined, rewriteIdToken: undefined, extraKeys: [] });
  state.person = { sub: 'acme-person', email: 'someone@acme.example', email_verified: true };
});

const REFUSED = /Acme SSO could not confirm who you are, so you are not signed in/;

/** The person is not signed in: the page offers the way back, and that way leads to the sign-in form. */
async function assertNotSignedIn(
  t: ExecutionContext<Context>,
  signIn: Authorization,
  page: { html: string; response: Response },
  status: number,
  message: RegExp,
) {
  t.is(page.response.status, status);
  t.regex(page.html, message);
  const uid = signIn.url.pathname.split('/')[2];
  t.true(page.html.includes(`href="/interaction/${uid}"`));
  const back = await land(signIn.client, `/interaction/${uid}`);
  t.regex(back.html, /action="\/interaction\/[^/]+\/email"/);
}

const refusedWith = async (t: ExecutionContext<Context>, change?: (callback: URL) => URL) => {
  const signIn = await t.context.signInPage();
  const page = await continueWith(signIn.client, signIn, 'acme', change);
  return { signIn, page };
};

test.serial('an ID token with a bad signature is refused', async (t) => {
  const impostor = await newKey('upstream-1');
  t.context.acme.state.rewriteIdToken = (idToken) => t.context.acme.sign(decodeJwt(idToken), impostor);
  const { signIn, page } = await refusedWith(t);
  await assertNotSignedIn(t, signIn, page, 400, REFUSED);
});

test.serial('an ID token from another issuer is refused', async (t) => {
  t.context.acme.rewriteClaims((claims) => ({ ...claims, iss: t.context.google.issuer }));
  const { signIn, page } = await refusedWith(t);
  await assertNotSignedIn(t, signIn, page, 400, REFUSED);
});

test.serial('an ID token for another audience is refused', async (t) => {
  t.context.acme.rewriteClaims((claims) => ({ ...claims, aud: 'some-other-client' }));
  const { signIn, page } = await refusedWith(t);
  await assertNotSignedIn(t, signIn, page, 400, REFUSED);
});

test.serial('an ID token replayed from an earlier sign-in (its nonce) is refused', async (t) => {
  let earlier: string | undefined;
  t.context.acme.state.rewriteIdToken = async (idToken) => {
    earlier = idToken;
    return idToken;
  };
  const first = await t.context.signInPage();
  await continueWith(first.client, first, 'acme');
  t.context.acme.state.rewriteIdToken = async () => String(earlier);
  const { signIn, page } = await refusedWith(t);
  t.not(decodeJwt(String(earlier)).nonce, undefined);
  await assertNotSignedIn(t, signIn, page, 400, REFUSED);
});

test.serial('an unsigned ID token (alg none) and one signed with the client secret (HS256) are refused', async (t) => {
  t.context.acme.state.rewriteIdToken = async (idToken) => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    return `${header}.${idToken.split('.')[1]}.`;
  };
  const unsigned = await refusedWith(t);
  await assertNotSignedIn(t, unsigned.signIn, unsigned.page, 400, REFUSED);

  t.context.acme.state.rewriteIdToken = (idToken) =>
    t.context.acme.sign(
      decodeJwt(idToken),
      { kid: 'secret', privateKey: new TextEncoder().encode(ACME_SECRET) as never },
      'HS256',
    );
  const symmetric = await refusedWith(t);
  await assertNotSignedIn(t, symmetric.signIn, symmetric.page, 400, REFUSED);
});

test.serial('an ID token issued in the future, or with a wrong at_hash, is refused', async (t) => {
  t.context.acme.rewriteClaims((claims) => ({
    ...claims,
    iat: Number(claims.iat) + 3600,
    exp: Number(claims.exp) + 3600,
  }));
  const future = await refusedWith(t);
  await assertNotSignedIn(t, future.signIn, future.page, 400, REFUSED);

  t.context.acme.rewriteClaims((claims) => ({ ...claims, at_hash: 'bm90IHRoZSByaWdodCBoYXNo' }));
  const wrongHash = await refusedWith(t);
  await assertNotSignedIn(t, wrongHash.signIn, wrongHash.page, 400, REFUSED);
});

test.serial(
  'a token signed with a key the upstream has just published is accepted after one JWKS refetch',
  async (t) => {
    // A sign-in first, so the upstream's JWKS is cached without the new key.
    const warm = await t.context.signInPage();
    t.regex((await continueWith(warm.client, warm, 'acme')).url.pathname, /^\/interaction\//);
    const rotated = await t.context.acme.addKey('upstream-2');
    t.context.acme.state.rewriteIdToken = (idToken) => t.context.acme.sign(decodeJwt(idToken), rotated);
    const signIn = await t.context.signInPage();
    const consent = await continueWith(signIn.client, signIn, 'acme');
    const done = await submit(signIn.client, consent, '/confirm');
    t.deepEqual((await redeem(t.context.config, done.url, signIn.check)).amr, ['fed']);
  },
);

test.serial('an answer whose state matches no sign-in is refused before its code is redeemed', async (t) => {
  const before = t.context.acme.state.tokenRequests;
  const signIn = await t.context.signInPage();
  const page = await continueWith(signIn.client, signIn, 'acme', (callback) => {
    const forged = new URL(callback);
    forged.searchParams.set('state', 'not-the-state-we-sent');
    return forged;
  });
  t.is(page.response.status, 400);
  t.regex(page.html, /does not belong to a sign-in in progress/);
  t.is(t.context.acme.state.tokenRequests, before);
});

test.serial(
  'an answer carrying another provider’s iss (mix-up, RFC 9207) is refused before its code is redeemed',
  async (t) => {
    const before = t.context.acme.state.tokenRequests;
    const { signIn, page } = await refusedWith(t, (callback) => {
      t.is(callback.searchParams.get('iss'), t.context.acme.issuer);
      const mixedUp = new URL(callback);
      mixedUp.searchParams.set('iss', t.context.google.issuer);
      return mixedUp;
    });
    await assertNotSignedIn(t, signIn, page, 400, REFUSED);
    t.is(t.context.acme.state.tokenRequests, before);
  },
);

test.serial('an answer carried to another browser does not sign that browser in', async (t) => {
  const before = t.context.acme.state.tokenRequests;
  const signIn = await t.context.signInPage();
  let stolen: URL | undefined;
  const page = await continueWith(signIn.client, signIn, 'acme', (callback) => {
    stolen = callback;
    return new URL('/health', callback);
  });
  t.is(page.response.status, 200);
  const elsewhere = await land(new PageClient(t.context.server.url), String(stolen));
  t.is(elsewhere.response.status, 400);
  t.regex(elsewhere.html, /started in another browser or app/);
  t.is(t.context.acme.state.tokenRequests, before);
});

test.serial('a person who declines at the upstream ends on a page that offers another way', async (t) => {
  t.context.acme.state.deny = { error: 'access_denied', error_description: '<b>nope</b>' };
  const { signIn, page } = await refusedWith(t);
  await assertNotSignedIn(t, signIn, page, 400, /You did not allow signing in with Acme SSO/);
  t.false(page.html.includes('<b>nope</b>'));
});

test.serial('an upstream error is shown escaped', async (t) => {
  t.context.acme.state.deny = { error: 'temporarily_unavailable', error_description: '<script>alert(1)</script>' };
  const { signIn, page } = await refusedWith(t);
  await assertNotSignedIn(t, signIn, page, 400, REFUSED);
  t.true(page.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  t.false(page.html.includes('<script>alert(1)'));
});

test.serial('a token endpoint that fails with a 500 ends on a clear page, not a 500', async (t) => {
  t.context.acme.state.tokenStatus = 500;
  const { signIn, page } = await refusedWith(t);
  await assertNotSignedIn(t, signIn, page, 502, /Acme SSO did not answer in time/);
});

test.serial('a provider that cannot be reached ends on a clear page when its button is pressed', async (t) => {
  const signIn = await t.context.signInPage();
  const page = await continueWith(signIn.client, signIn, 'down');
  await assertNotSignedIn(t, signIn, page, 502, /down is not answering just now/);
});

test.serial('the ID token FairyID accepts was signed by the upstream', async (t) => {
  let seen: string | undefined;
  t.context.acme.state.rewriteIdToken = async (idToken) => {
    seen = idToken;
    return idToken;
  };
  const signIn = await t.context.signInPage();
  await continueWith(signIn.client, signIn, 'acme');
  t.is(decodeProtectedHeader(String(seen)).kid, 'upstream-1');
});
