import * as oidc from 'openid-client';
import type { UpstreamProviderSettings } from '../config.ts';
import { UpstreamFailure, type UpstreamFlow, type UpstreamIdentity, upstreamCall } from './upstream-client.ts';
import { refreshAt, type UpstreamTokens, upstreamTokens } from './upstream-tokens.ts';

/** What sets one OAuth 2 provider apart: its endpoints, what it is asked for, and how it says who signed in. */
export type OAuthOnlyProvider = {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** Beyond state and PKCE: the scope, and any parameter of the provider's own. */
  authorizationParameters: Record<string, string>;
  /** Reads the person from the provider's API with the access token. */
  identify(accessToken: string): Promise<UpstreamIdentity>;
};

/**
 * A provider that speaks OAuth 2 without OpenID Connect (GitHub, Facebook): openid-client runs the
 * code flow with state and PKCE. No `iss` comes back, so the provider's own redirect URI is what
 * keeps its answers apart from another's; the person is then read from its API.
 */
export function createOAuthOnlyClient(
  settings: UpstreamProviderSettings,
  options: { redirectUri: string; timeoutSeconds: number },
  provider: OAuthOnlyProvider,
) {
  const config = new oidc.Configuration(
    {
      issuer: settings.issuer,
      authorization_endpoint: provider.authorizationEndpoint,
      token_endpoint: provider.tokenEndpoint,
    },
    settings.clientId,
    { redirect_uris: [options.redirectUri] },
    oidc.ClientSecretPost(settings.clientSecret),
  );
  config.timeout = options.timeoutSeconds;
  // Plain http is only ever configured for a loopback stand-in (config.ts), and never in production.
  if (settings.issuer.startsWith('http://')) oidc.allowInsecureRequests(config);

  return {
    settings,

    async authorizationUrl(): Promise<{ url: URL; flow: UpstreamFlow }> {
      const flow = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        codeVerifier: oidc.randomPKCECodeVerifier(),
      };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: options.redirectUri,
        ...provider.authorizationParameters,
        state: flow.state,
        code_challenge: await oidc.calculatePKCECodeChallenge(flow.codeVerifier),
        code_challenge_method: 'S256',
      });
      return { url, flow };
    },

    /** The answer that came back to the redirect URI (its query parameters), for the flow it belongs to. */
    async redeem(response: URLSearchParams, flow: UpstreamFlow): Promise<UpstreamIdentity> {
      const callback = new URL(options.redirectUri);
      callback.search = response.toString();
      const tokens = await upstreamCall(() =>
        oidc.authorizationCodeGrant(config, callback, {
          pkceCodeVerifier: flow.codeVerifier,
          expectedState: flow.state,
        }),
      );
      const identity = await upstreamCall(() => provider.identify(tokens.access_token));
      return { ...identity, tokens: upstreamTokens(tokens) };
    },

    /** A fresh access token for a kept refresh token (GitHub's expiring user tokens; RFC 6749 6). */
    refresh(refreshToken: string, scope: string | undefined): Promise<UpstreamTokens> {
      return refreshAt(config, refreshToken, { refreshToken, scope });
    },
  };
}

/** A GET of the provider's API within the timeout; its 5xx is an outage, any other refusal a refusal. */
export async function upstreamJson<T>(
  url: URL | string,
  headers: Record<string, string>,
  timeoutSeconds: number,
  what: string,
): Promise<T> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutSeconds * 1000) });
  if (!response.ok) {
    const reason = response.status >= 500 ? 'unavailable' : 'refused';
    throw new UpstreamFailure(reason, undefined, { cause: new Error(`${what} answered ${response.status}`) });
  }
  return (await response.json()) as T;
}
