import * as oidc from 'openid-client';
import { latestCode } from './outbox.ts';
import { csrfToken, formAction, PageClient } from './page-client.ts';
import { pkcePair, RP_REDIRECT } from './relying-party.ts';
import type { TestServer } from './server.ts';

export type Landing = { response: Response; url: URL; html: string };
export type Authorization = Landing & {
  client: PageClient;
  check: { pkceCodeVerifier: string; expectedState: string; expectedNonce: string; maxAge?: number };
};

/** A relying party's authorization request (PKCE, state, nonce, and `extra` such as acr_values) in `client`, followed to where it lands. */
export async function authorize(
  server: TestServer,
  config: oidc.Configuration,
  extra: Record<string, string> = {},
  client = new PageClient(server.url),
): Promise<Authorization> {
  const { verifier, challenge } = await pkcePair();
  const check = {
    pkceCodeVerifier: verifier,
    expectedState: oidc.randomState(),
    expectedNonce: oidc.randomNonce(),
    ...(extra.max_age ? { maxAge: Number(extra.max_age) } : {}),
  };
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: check.expectedState,
    nonce: check.expectedNonce,
    ...extra,
  });
  return { client, check, ...(await land(client, url.href)) };
}

/** Follows `href` (and its same-origin redirects) and reads the page it ends on. */
export async function land(client: PageClient, href: string, form?: Record<string, string>): Promise<Landing> {
  const { response, url } = await client.follow(href, form ? { form } : {});
  return { response, url, html: await response.text() };
}

/** Submits the form on `page` whose action contains `action`, with its CSRF token, and follows on. */
export function submit(client: PageClient, page: Landing, action: string, fields: Record<string, string> = {}) {
  return land(client, new URL(formAction(page.html, action), page.url).href, {
    _csrf: csrfToken(page.html),
    ...fields,
  });
}

/** The first factor on the sign-in page: an email code read from the development outbox. */
export async function passEmailCode(
  server: TestServer,
  client: PageClient,
  signIn: Landing,
  email: string,
): Promise<Landing> {
  const codePage = await submit(client, signIn, '/email', { email });
  return submit(client, codePage, '/code', { code: await latestCode(server.url, email) });
}

/** The relying party redeems the code it was sent back with; returns the ID token's claims. */
export async function redeem(config: oidc.Configuration, callback: URL, check: Authorization['check']) {
  if (`${callback.origin}${callback.pathname}` !== RP_REDIRECT)
    throw new Error(`expected the app's callback, got ${callback.href}`);
  const tokens = await oidc.authorizationCodeGrant(config, callback, check);
  return tokens.claims()!;
}
