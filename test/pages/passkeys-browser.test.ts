import type { ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { accountByEmail } from '../helpers/account-pages.ts';
import { signInByEmailCode } from '../helpers/browser-sign-in.ts';
import { browserTest } from '../helpers/browser.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import {
  addVirtualAuthenticator,
  type AuthenticatorOptions,
  type VirtualAuthenticator,
} from '../helpers/virtual-authenticator.ts';
import { checkPage, VIEWPORTS, watchComplaints, type Viewport } from '../helpers/viewport-pages.ts';

type Browser = { page: Page; complaints: string[]; authenticator: VirtualAuthenticator };

/**
 * A browser of its own (own cookies) with a virtual authenticator, nothing signed in. Chrome's
 * virtual authenticator answers a conditional (autofill) request at once, as if the person picked
 * the passkey; `autofill: false` stands for a browser without passkey autofill, where the button is the way.
 */
async function newBrowser(
  t: ExecutionContext,
  viewport: Viewport = 'desktop',
  options: AuthenticatorOptions & { autofill?: boolean } = {},
): Promise<Browser> {
  const page = await VIEWPORTS[viewport].open(t);
  if (options.autofill === false) {
    await page.addInitScript('PublicKeyCredential.isConditionalMediationAvailable = async () => false;');
  }
  const complaints = watchComplaints(page);
  const authenticator = await addVirtualAuthenticator(page, options);
  return { page, complaints, authenticator };
}

/** Signs `email` in by email code on the way to the passkeys page. */
async function onPasskeysPage(server: TestServer, browser: Browser, email: string) {
  await browser.page.goto(`${server.url}/account/passkeys`);
  await signInByEmailCode(server, browser.page, email);
  await browser.page.waitForURL((url) => url.pathname === '/account/passkeys');
}

/**
 * Adds a passkey from the passkeys page and comes back to it. Creating it took the person's
 * verification on the new passkey, so the session counts it and stays signed in; a first second
 * factor comes with backup codes, shown on the way.
 */
async function addPasskey(server: TestServer, page: Page, name?: string) {
  if (name) await page.locator('#passkey-name').fill(name);
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.waitForURL((url) => url.pathname === '/account/security/backup-codes' || url.search === '?saved=added');
  await page.goto(`${server.url}/account/passkeys`);
}

/** A relying party (first-party, so no consent page) whose redirect URI is the app's own /dev/callback page. */
async function relyingParty(server: TestServer) {
  const redirectUri = `${server.url}/dev/callback`;
  const { clientId, clientSecret } = await registerClient(server.app, {
    name: 'Pixie Notes',
    redirectUris: [redirectUri],
    firstParty: true,
  });
  return { redirectUri, config: await discover(server.url, clientId, clientSecret) };
}

/** Opens the relying party's authorization request in `page`; returns what the callback must match. */
async function startAuthorization(
  page: Page,
  rp: Awaited<ReturnType<typeof relyingParty>>,
  extra: Record<string, string> = {},
) {
  const verifier = oidc.randomPKCECodeVerifier();
  const check = { pkceCodeVerifier: verifier, expectedState: oidc.randomState(), expectedNonce: oidc.randomNonce() };
  const url = oidc.buildAuthorizationUrl(rp.config, {
    redirect_uri: rp.redirectUri,
    scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: check.expectedState,
    nonce: check.expectedNonce,
    ...extra,
  });
  await page.goto(url.href);
  return check;
}

/** From the callback page: the relying party's token request, and the ID token's claims. */
async function tokensAtCallback(
  page: Page,
  rp: Awaited<ReturnType<typeof relyingParty>>,
  check: Awaited<ReturnType<typeof startAuthorization>>,
) {
  await page.waitForURL((url) => url.pathname === '/dev/callback');
  const tokens = await oidc.authorizationCodeGrant(rp.config, new URL(page.url()), check);
  return tokens.claims()!;
}

async function auditEvents(server: TestServer, event: string) {
  return server.app.services.db
    .selectFrom('audit_events')
    .selectAll()
    .where('event', '=', event)
    .orderBy('id')
    .execute();
}

browserTest('a passkey added on the account page signs in passwordless at an app in another browser', async (t) => {
  const server = await startTestServer(t, { hostname: 'localhost' });
  const rp = await relyingParty(server);
  const first = await newBrowser(t, 'desktop', { autofill: false });
  await onPasskeysPage(server, first, 'passkey-user@example.com');
  t.true(await first.page.getByText('You have no passkeys yet.').isVisible());
  await addPasskey(server, first.page, 'Work laptop');
  t.true(await first.page.locator('li.passkey').filter({ hasText: 'Work laptop' }).isVisible());
  const [credential] = await first.authenticator.credentials();
  t.truthy(credential);

  const second = await newBrowser(t, 'desktop', { autofill: false });
  await second.authenticator.addCredential(credential!);
  const check = await startAuthorization(second.page, rp);
  await second.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  const claims = await tokensAtCallback(second.page, rp, check);
  t.is(claims.acr, 'phr');
  t.true((claims.amr as string[]).includes('user'));
  t.true((claims.amr as string[]).includes('hwk') || (claims.amr as string[]).includes('swk'));
  t.is(claims.sub, (await accountByEmail(server, 'passkey-user@example.com')).id);

  // Where the browser offers passkeys in the sign-in field's autofill, picking one is all it takes.
  // (Copied as it is now: a copy whose signature counter fell behind would be refused as a clone.)
  const third = await newBrowser(t);
  await third.authenticator.addCredential((await second.authenticator.credentials())[0]!);
  const autofilled = await tokensAtCallback(third.page, rp, await startAuthorization(third.page, rp));
  t.is(autofilled.acr, 'phr');
  const signIns = await auditEvents(server, 'sign_in');
  t.is(signIns.filter((event) => /passkey_(hwk|swk)/.test(JSON.stringify(event.detail))).length, 2);
  t.deepEqual(first.complaints, []);
  t.deepEqual(second.complaints, []);
  t.deepEqual(third.complaints, []);
});

browserTest('a passkey can be renamed and removed, and a removed passkey no longer signs in', async (t) => {
  const server = await startTestServer(t, { hostname: 'localhost' });
  const rp = await relyingParty(server);
  const email = 'renamer@example.com';
  const first = await newBrowser(t, 'desktop', { autofill: false });
  await onPasskeysPage(server, first, email);
  await addPasskey(server, first.page, 'Phone');
  const [credential] = await first.authenticator.credentials();
  const passkeys = first.page.locator('li.passkey');
  t.is(await passkeys.count(), 1);

  await passkeys.getByText('Rename').click();
  await passkeys.getByLabel('New name for Phone').fill('  Old phone  ');
  await passkeys.getByRole('button', { name: 'Save name' }).click();
  await first.page.waitForURL((url) => url.search === '?saved=renamed');
  t.true(await first.page.getByRole('status').filter({ hasText: 'The name is saved.' }).isVisible());
  t.true(await passkeys.getByRole('heading', { name: 'Old phone', exact: true }).isVisible());

  // Too long a name is refused by the server too (the field's maxlength is only the browser's courtesy).
  await passkeys.getByText('Rename').click();
  await passkeys.getByLabel('New name for Old phone').evaluate((input) => {
    input.removeAttribute('maxlength');
    (input as unknown as { value: string }).value = 'x'.repeat(61);
  });
  await passkeys.getByRole('button', { name: 'Save name' }).click();
  t.true(await first.page.getByRole('alert').filter({ hasText: 'Give it a name of 1 to 60 characters.' }).isVisible());
  t.true(await passkeys.getByRole('heading', { name: 'Old phone', exact: true }).isVisible());

  const account = await accountByEmail(server, email);
  t.true((await server.app.services.backupCodes.remaining(account.id)) > 0, 'the first passkey came with backup codes');
  await first.page.getByRole('button', { name: 'Remove Old phone' }).click();
  await first.page.getByRole('heading', { level: 1, name: 'Remove this passkey?' }).waitFor();
  t.is(
    await server.app.services.passkeys.list(account.id).then((list) => list.length),
    1,
    'not removed before confirming',
  );
  await first.page.getByRole('button', { name: 'Remove passkey' }).click();
  await first.page.waitForURL((url) => url.search === '?saved=removed');
  t.true(await first.page.getByText('You have no passkeys yet.').isVisible());
  t.is(
    await server.app.services.backupCodes.remaining(account.id),
    0,
    'with no second factor left, backup codes stand in for nothing',
  );
  const changes = (await auditEvents(server, 'factor_renamed')).concat(await auditEvents(server, 'factor_removed'));
  t.deepEqual(
    changes.map((event) => [event.event, (event.detail as { name?: string }).name]),
    [
      ['factor_renamed', 'Old phone'],
      ['factor_removed', 'Old phone'],
    ],
  );

  const second = await newBrowser(t, 'desktop', { autofill: false });
  await second.authenticator.addCredential(credential!);
  await startAuthorization(second.page, rp);
  await second.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await second.page.getByRole('alert').filter({ hasText: 'That passkey is not registered with FairyID.' }).waitFor();
  t.regex(new URL(second.page.url()).pathname, /^\/interaction\/[^/]+$/);
  const failed = await auditEvents(server, 'sign_in_failed');
  t.deepEqual(
    failed.map((event) => (event.detail as { reason?: string }).reason),
    ['unknown_credential'],
  );
  t.deepEqual(first.complaints, []);
});

/** Captures the next passkey answer the sign-in page posts, without letting it reach the server. */
async function captureAssertion(page: Page): Promise<{ credential: Record<string, any> }> {
  let captured: (body: string) => void;
  const body = new Promise<string>((resolve) => (captured = resolve));
  await page.route('**/passkey/sign-in', async (route) => {
    captured(route.request().postData() ?? '');
    await route.abort();
  });
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  const json = JSON.parse(await body);
  await page.unroute('**/passkey/sign-in');
  return json;
}

/** Posts `body` as the sign-in page's script would (its cookies, its CSRF token). */
async function postFromPage(page: Page, body: unknown) {
  const block = page.locator('[data-passkey="sign-in"]');
  return block.evaluate(async (element, payload) => {
    const response = await fetch(element.getAttribute('data-verify-url')!, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': element.getAttribute('data-csrf')! },
      body: JSON.stringify(payload),
    });
    return { status: response.status, body: (await response.json()) as { error?: string; redirectTo?: string } };
  }, body);
}

browserTest('a tampered assertion, an unknown credential and a replayed challenge are refused', async (t) => {
  const server = await startTestServer(t, { hostname: 'localhost' });
  const rp = await relyingParty(server);
  const first = await newBrowser(t, 'desktop', { autofill: false });
  await onPasskeysPage(server, first, 'replayer@example.com');
  await addPasskey(server, first.page);
  const [credential] = await first.authenticator.credentials();

  const second = await newBrowser(t, 'desktop', { autofill: false });
  await second.authenticator.addCredential(credential!);
  const check = await startAuthorization(second.page, rp);

  const tampered = await captureAssertion(second.page);
  const signature = tampered.credential.response.signature as string;
  const flipped = {
    ...tampered,
    credential: {
      ...tampered.credential,
      response: {
        ...tampered.credential.response,
        signature: `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`,
      },
    },
  };
  t.like(await postFromPage(second.page, flipped), { status: 403, body: { error: 'passkey_invalid' } });
  // Its challenge was used up by the failed attempt: the genuine answer to it comes too late.
  t.like(await postFromPage(second.page, tampered), { status: 400, body: { error: 'expired_challenge' } });

  const unknown = await captureAssertion(second.page);
  const otherId = Buffer.from('not a credential of ours').toString('base64url');
  t.like(await postFromPage(second.page, { credential: { ...unknown.credential, id: otherId, rawId: otherId } }), {
    status: 403,
    body: { error: 'passkey_unknown_credential' },
  });

  const genuine = await captureAssertion(second.page);
  const accepted = await postFromPage(second.page, genuine);
  t.is(accepted.status, 200);
  t.like(await postFromPage(second.page, genuine), { status: 400, body: { error: 'expired_challenge' } });
  t.like(await postFromPage(second.page, { credential: { id: 'x' } }), {
    status: 400,
    body: { error: 'invalid_request' },
  });

  await second.page.goto(new URL(accepted.body.redirectTo!, server.url).href);
  t.is((await tokensAtCallback(second.page, rp, check)).acr, 'phr');
  const reasons = (await auditEvents(server, 'sign_in_failed')).map(
    (event) => (event.detail as { reason?: string }).reason,
  );
  t.deepEqual(reasons, ['invalid', 'challenge', 'unknown_credential', 'challenge']);
});

browserTest('a copy of a device-bound passkey is refused once its signature counter falls behind', async (t) => {
  const server = await startTestServer(t, { hostname: 'localhost' });
  const rp = await relyingParty(server);
  const first = await newBrowser(t, 'desktop', { autofill: false });
  await onPasskeysPage(server, first, 'cloned@example.com');
  await addPasskey(server, first.page);
  const [credential] = await first.authenticator.credentials();
  t.true(credential!.signCount > 0, 'the virtual authenticator counts its signatures');

  const original = await newBrowser(t, 'desktop', { autofill: false });
  await original.authenticator.addCredential(credential!);
  const copy = await newBrowser(t, 'desktop', { autofill: false });
  await copy.authenticator.addCredential(credential!);

  const check = await startAuthorization(original.page, rp);
  await original.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  t.is((await tokensAtCallback(original.page, rp, check)).acr, 'phr');

  await startAuthorization(copy.page, rp);
  await copy.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await copy.page.getByRole('alert').filter({ hasText: 'it may have been copied' }).waitFor();
  const failed = await auditEvents(server, 'sign_in_failed');
  t.deepEqual(
    failed.map((event) => [event.account_id, (event.detail as { reason?: string }).reason]),
    [[(await accountByEmail(server, 'cloned@example.com')).id, 'cloned']],
  );
});

browserTest('a device-bound passkey that later claims to be backed up is refused', async (t) => {
  const server = await startTestServer(t, { hostname: 'localhost' });
  const rp = await relyingParty(server);
  const first = await newBrowser(t, 'desktop', { autofill: false, defaultBackupEligibility: false });
  await onPasskeysPage(server, first, 'backup-state@example.com');
  await addPasskey(server, first.page);
  t.true(await first.page.getByText('Device-bound').isVisible());
  const [credential] = await first.authenticator.credentials();

  const second = await newBrowser(t, 'desktop', { autofill: false });
  await second.authenticator.addCredential({ ...credential!, backupEligibility: true, backupState: true });
  await startAuthorization(second.page, rp);
  await second.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await second.page.getByRole('alert').filter({ hasText: 'no longer matches the one you added' }).waitFor();
  const failed = await auditEvents(server, 'sign_in_failed');
  t.deepEqual(
    failed.map((event) => (event.detail as { reason?: string }).reason),
    ['backup_state'],
  );
});

for (const viewport of ['phone', 'desktop'] as const) {
  browserTest(`the passkeys page fits the screen and its scripts load under the CSP (${viewport})`, async (t) => {
    const server = await startTestServer(t, { hostname: 'localhost' });
    const browser = await newBrowser(t, viewport, {
      autofill: false,
      defaultBackupEligibility: true,
      defaultBackupState: true,
    });
    await onPasskeysPage(server, browser, `screens-${viewport}@example.com`);
    t.true(
      await browser.page.getByRole('button', { name: 'Add a passkey' }).isVisible(),
      'the script shows the button',
    );
    await checkPage(t, browser.page, viewport, 'account-passkeys-empty', 'Passkeys');
    await addPasskey(server, browser.page, 'A passkey with a rather long name for a small screen');
    t.true(await browser.page.getByText('Synced passkey').isVisible());
    t.true(await browser.page.getByRole('status').or(browser.page.locator('li.passkey')).first().isVisible());
    await checkPage(t, browser.page, viewport, 'account-passkeys', 'Passkeys');
    t.deepEqual(browser.complaints, []);
  });
}

browserTest('after an email code, a passkey is the second step at the sign-in’s mfa page', async (t) => {
  const server = await startTestServer(t, { hostname: 'localhost' });
  const rp = await relyingParty(server);
  const email = 'two-step@example.com';
  const first = await newBrowser(t, 'desktop', { autofill: false });
  await onPasskeysPage(server, first, email);
  await addPasskey(server, first.page);
  const [credential] = await first.authenticator.credentials();

  const second = await newBrowser(t, 'phone', { autofill: false });
  await second.authenticator.addCredential(credential!);
  const check = await startAuthorization(second.page, rp);
  await signInByEmailCode(server, second.page, email);
  await second.page.waitForURL(/\/interaction\/[^/]+\/mfa$/);
  await checkPage(t, second.page, 'phone', 'mfa-passkey', 'Confirm it’s you');
  // Holding only the mailbox is not enough to plant a passkey of one's own in place of the real one.
  const planted = await second.page.locator('[data-passkey="second-factor"]').evaluate(async (element) => {
    const response = await fetch(
      element.getAttribute('data-options-url')!.replace('/second-factor/options', '/enroll/options'),
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': element.getAttribute('data-csrf')! },
        body: '{}',
      },
    );
    return { status: response.status, body: (await response.json()) as { error?: string } };
  });
  t.like(planted, { status: 403, body: { error: 'forbidden' } });
  await second.page.getByRole('button', { name: 'Use your passkey' }).click();
  const claims = await tokensAtCallback(second.page, rp, check);
  t.is(claims.acr, 'phr');
  const amr = claims.amr as string[];
  t.true(amr.includes('otp') && amr.includes('mfa') && (amr.includes('hwk') || amr.includes('swk')), amr.join(' '));
  t.deepEqual(
    second.complaints.filter((complaint) => !complaint.endsWith('/passkey/enroll/options answered 403')),
    [],
  );
});

browserTest('an app that asks for a passkey gets one created on the spot by a person who has none', async (t) => {
  const server = await startTestServer(t, { hostname: 'localhost' });
  const rp = await relyingParty(server);
  const browser = await newBrowser(t, 'desktop', { autofill: false });
  const check = await startAuthorization(browser.page, rp, { acr_values: 'phr' });
  await signInByEmailCode(server, browser.page, 'newcomer@example.com');
  await browser.page.waitForURL(/\/interaction\/[^/]+\/mfa$/);
  await browser.page.getByRole('button', { name: 'Create a passkey' }).click();
  await browser.page.waitForURL(/\/interaction\/[^/]+\/mfa\/backup-codes$/);
  await browser.page.getByRole('link', { name: 'I saved them, continue' }).click();
  const claims = await tokensAtCallback(browser.page, rp, check);
  t.is(claims.acr, 'phr');
  t.is((await browser.authenticator.credentials()).length, 1);
  const added = await auditEvents(server, 'factor_added');
  t.deepEqual(
    added.map((event) => (event.detail as { factor?: string }).factor),
    ['passkey'],
  );
  t.deepEqual(browser.complaints, []);
});
