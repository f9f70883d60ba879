import * as oidc from 'openid-client';
import type { App } from '../../src/app.ts';
import type { ClientRegistration } from '../../src/oidc/client-registry.ts';

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
