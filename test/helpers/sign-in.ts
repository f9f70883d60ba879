import * as oidc from 'openid-client';
import { PageClient, csrfToken, formAction } from './page-client.ts';
import { RP_REDIRECT } from './relying-party.ts';
import { latestCode } from './outbox.ts';

/**
 * Signs `email` in through the real hosted pages, starting at an authorization (or device) URL,
 * and returns where the provider finally sends the browser (the client's redirect_uri, usually).
 */
export async function signInThroughPages(
  baseUrl: string,
  startUrl: string,
  email: string,
  options: { client?: PageClient; consent?: boolean } = {},
) {
  const client = options.client ?? new PageClient(baseUrl);
  let { response, url } = await client.follow(startUrl);
  let html = await response.text();
  if (url.pathname.startsWith('/interaction/') && html.includes('/email"')) {
    ({ response, url } = await client.follow(formAction(html, '/email'), { form: { _csrf: csrfToken(html), email } }));
    html = await response.text();
    const code = await latestCode(baseUrl, email);
    ({ response, url } = await client.follow(formAction(html, '/code'), { form: { _csrf: csrfToken(html), code } }));
    html = await response.text();
  }
  if (url.pathname.startsWith('/interaction/') && html.includes('/confirm"') && options.consent !== false) {
    ({ response, url } = await client.follow(formAction(html, '/confirm'), { form: { _csrf: csrfToken(html) } }));
    html = await response.text();
  }
  return { url, response, html, client };
}

/**
 * The relying party's whole authorization code flow with offline access (PKCE, state and nonce
 * checked by openid-client), signing `email` in through the pages in a new browser.
 */
export async function codeFlowWithOfflineAccess(baseUrl: string, config: oidc.Configuration, email: string) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid email profile offline_access',
    // OIDC Core 11: offline_access is only honoured together with prompt=consent.
    prompt: 'consent',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const { url } = await signInThroughPages(baseUrl, authorizationUrl.href, email);
  return oidc.authorizationCodeGrant(config, url, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
  });
}
