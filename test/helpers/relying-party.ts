import * as oidc from 'openid-client';
import type { App } from '../../src/app.ts';
import type { ClientRegistration } from '../../src/oidc/client-registry.ts';
import type { PageClient } from './page-client.ts';

export const RP_REDIRECT = 'http://127.0.0.1:9/callback';

/** Registers a client exactly as `npm run cli -- clients add` does. */
export async function registerClient(app: App, overrides: Partial<ClientRegistration> = {}) {
  const { metadata, clientSecret } = await app.clients.register({
    name: 'Test RP',
    redirectUris: [RP_REDIRECT],
    postLogoutRedirectUris: ['http://127.0.0.1:9/signed-out'],
    grantTypes: ['authorization_code', 'refresh_token'],
    authMethod: 'client_secret_basic',
    firstParty: false,
    ...overrides,
  });
  return { clientId: metadata.client_id, clientSecret };
}

/** An openid-client configuration from our discovery document (plain http is fine on loopback). */
export function discover(issuer: string, clientId: string, clientSecret?: string) {
  return oidc.discovery(new URL(issuer), clientId, clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
}

export async function pkcePair() {
  const verifier = oidc.randomPKCECodeVerifier();
  return { verifier, challenge: await oidc.calculatePKCECodeChallenge(verifier) };
}

/** Where a silent (prompt=none) authorization request in `browser` sends it back to the app. */
export async function silentAuthorization(
  config: oidc.Configuration,
  browser: PageClient,
  extra: Record<string, string> = {},
) {
  const { challenge } = await pkcePair();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid',
    prompt: 'none',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  });
  const { url: callback } = await browser.follow(url.href);
  if (`${callback.origin}${callback.pathname}` !== RP_REDIRECT)
    throw new Error(`prompt=none ended at ${callback.href}, not at the app`);
  return callback.searchParams;
}
