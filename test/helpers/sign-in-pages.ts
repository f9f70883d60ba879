import * as oidc from 'openid-client';
import { PageClient, csrfToken, formAction } from './page-client.ts';
import { RP_REDIRECT, discover, registerClient } from './relying-party.ts';
import type { TestServer } from './server.ts';

export type SignInPage = {
  client: PageClient;
  response: Response;
  /** Where the browser landed: the interaction's sign-in page. */
  url: URL;
  html: string;
  config: oidc.Configuration;
  check: { pkceCodeVerifier: string; expectedState: string; expectedNonce: string };
};

/**
 * A relying party's authorization request (PKCE, state, nonce, and `extra` parameters such as
 * ui_locales) opened in a fresh browser without JavaScript that sends `headers` on every request:
 * returns the hosted sign-in page it lands on, and what the callback must match. The browser talks
 * to `server` even when `config` was discovered on another instance of the issuer.
 */
export async function openSignInPage(
  server: TestServer,
  options: {
    scope?: string;
    config?: oidc.Configuration;
    extra?: Record<string, string>;
    headers?: Record<string, string>;
  } = {},
): Promise<SignInPage> {
  let config = options.config;
  if (!config) {
    const { clientId, clientSecret } = await registerClient(server.app);
    config = await discover(server.url, clientId, clientSecret);
  }
  const verifier = oidc.randomPKCECodeVerifier();
  const check = { pkceCodeVerifier: verifier, expectedState: oidc.randomState(), expectedNonce: oidc.randomNonce() };
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: options.scope ?? 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: check.expectedState,
    nonce: check.expectedNonce,
    ...options.extra,
  });
  const client = new PageClient(server.url);
  const { response, url } = await client.follow(
    new URL(`${authorizationUrl.pathname}${authorizationUrl.search}`, server.url).href,
    options.headers ? { headers: options.headers } : {},
  );
  const html = await response.text();
  if (response.status !== 200 || !html.includes('/email"'))
    throw new Error(`expected the sign-in page, got ${response.status}`);
  return { client, response, url, html, config, check };
}

/**
 * Types an email address or phone number into the sign-in page and asks for a code; on success,
 * the code page it leads to. `headers` stand for a proxy's (X-Forwarded-For with TRUST_PROXY).
 */
export async function askForCode(
  client: PageClient,
  signInHtml: string,
  identifier: string,
  headers: Record<string, string> = {},
) {
  const form = { _csrf: csrfToken(signInHtml), email: identifier };
  const response = await client.request(formAction(signInHtml, '/email'), { form, headers });
  if (response.status === 303) {
    const page = await client.request(response.headers.get('location')!, { headers });
    return { status: response.status, response: page, html: await page.text() };
  }
  return { status: response.status, response, html: await response.text() };
}

/** Submits a code on the code page (no redirect followed). */
export async function submitCode(
  client: PageClient,
  codeHtml: string,
  code: string,
  headers: Record<string, string> = {},
) {
  const response = await client.request(formAction(codeHtml, '/code'), {
    form: { _csrf: csrfToken(codeHtml), code },
    headers,
  });
  return { response, html: await response.text() };
}

/** From a successful code submission on: consent if asked, then the relying party's token request. */
export async function finishAtRelyingParty(page: SignInPage, signedIn: Response) {
  let { response, url } = await page.client.follow(signedIn.headers.get('location')!);
  if (url.origin === new URL(page.client.baseUrl).origin) {
    const consent = await response.text();
    ({ response, url } = await page.client.follow(formAction(consent, '/confirm'), {
      form: { _csrf: csrfToken(consent) },
    }));
  }
  if (!url.href.startsWith(RP_REDIRECT))
    throw new Error(`expected the callback, got ${response.status} at ${url.href}`);
  return oidc.authorizationCodeGrant(page.config, url, page.check);
}

/** A six-digit code that is certainly not `code`. */
export function otherThan(code: string) {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}
