import * as oidc from 'openid-client';
import { browserTest, phonePage, SCREENSHOTS } from '../helpers/browser.ts';
import { latestCode } from '../helpers/outbox.ts';
import { discover, pkcePair, registerClient } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';

const EMAIL = 'ada@example.com';

browserTest('a person signs in with a real browser on a phone-sized screen', async (t) => {
  const server = await startTestServer(t);
  const redirectUri = `${server.url}/dev/callback`;
  const { clientId, clientSecret } = await registerClient(server.app, {
    name: 'Pixie Notes',
    redirectUris: [redirectUri],
  });
  const config = await discover(server.url, clientId, clientSecret);
  const { verifier, challenge } = await pkcePair();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid email profile',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  const page = await phonePage(t);

  // Anything the browser itself complains about (a style refused by the CSP, a failed load) is a defect.
  // Pages answered 400 on purpose (a wrong code, an unknown client) are expected; their subresources are not.
  const complaints: string[] = [];
  page.on('console', (message) => {
    if (['error', 'warning'].includes(message.type()) && !message.text().startsWith('Failed to load resource')) {
      complaints.push(message.text());
    }
  });
  page.on('requestfailed', (request) => complaints.push(`${request.url()} failed`));
  const stylesheets: number[] = [];
  page.on('response', (response) => {
    const request = response.request();
    if (response.url().endsWith('/assets/fairyid.css')) stylesheets.push(response.status());
    if (request.resourceType() !== 'document' && response.status() >= 400) {
      complaints.push(`${response.url()} answered ${response.status()}`);
    }
  });

  /** The page is titled as expected, fits the phone's width, and is kept as a screenshot. */
  const check = async (name: string, title: string) => {
    t.true(await page.getByRole('heading', { level: 1, name: title }).isVisible(), `${name}: heading "${title}"`);
    // A mobile browser widens its layout to fit content that overflows, so compare with the screen, not innerWidth.
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    t.true(width <= 390, `${name}: nothing sticks out sideways (content is ${width}px wide)`);
    await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
  };

  await page.goto(authorizationUrl.href);
  t.regex(new URL(page.url()).pathname, /^\/interaction\/[^/]+$/);
  t.true(await page.getByText('to continue to Pixie Notes').isVisible());
  await check('login', 'Sign in');

  await page.getByLabel('Email address').fill(EMAIL);
  await page.getByRole('button', { name: 'Send me a code' }).click();
  await page.waitForURL(/\/interaction\/[^/]+\/code$/);
  t.true(await page.getByText(`We sent a 6-digit code to ${EMAIL}`).isVisible());
  await check('code', 'Check your email');

  const code = await latestCode(server.url, EMAIL);
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  await page.getByLabel('Sign-in code').fill(wrong);
  await page.getByRole('button', { name: 'Sign in' }).click();
  t.true(await page.getByRole('alert').filter({ hasText: 'That code is not right. 4 tries left.' }).isVisible());
  await check('code-wrong', 'Check your email');

  await page.getByLabel('Sign-in code').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  t.true(await page.getByText(`Signed in as ${EMAIL}`).isVisible());
  await check('consent', 'Allow access?');

  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL((url) => url.pathname === '/dev/callback');
  await check('callback', 'Signed in: demo callback');

  const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  t.deepEqual(tokens.claims()!.amr, ['otp']);
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
  t.is(userinfo.email, EMAIL);

  await page.goto(`${server.url}/device`);
  t.true(await page.getByLabel('Device code').isVisible());
  await check('device-input', 'Connect a device');

  await page.goto(`${server.url}/auth?client_id=no-such-app&response_type=code&scope=openid`);
  t.true(await page.getByRole('alert').filter({ hasText: 'not registered with FairyID' }).isVisible());
  await check('error', 'This app is not registered');

  // The same page in dark mode, to see that the palette holds up there too.
  await page.emulateMedia({ colorScheme: 'dark' });
  await check('error-dark', 'This app is not registered');

  t.true(
    stylesheets.length > 0 && stylesheets.every((status) => status === 200 || status === 304),
    'the stylesheet loads',
  );
  t.deepEqual(complaints, []);
});
