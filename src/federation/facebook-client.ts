import { createHmac } from 'node:crypto';
import * as oidc from 'openid-client';
import type { UpstreamProviderSettings } from '../config.ts';
import { required } from '../shared/required.ts';
import { UpstreamFailure, type UpstreamFlow, type UpstreamIdentity, upstreamCall } from './upstream-client.ts';

// The Graph API version FairyID was written against; Facebook keeps each version for two years.
const GRAPH_VERSION = 'v21.0';

type FacebookUser = { id?: unknown; name?: unknown; email?: unknown };

/**
 * Facebook Login, OAuth 2 without OpenID Connect for web apps: openid-client runs the code flow
 * (state and PKCE; no `iss`, so Facebook's own redirect URI keeps its answers apart), then the
 * person is read from the Graph API (`/me`, with the app secret proof Facebook asks servers to
 * send). The subject is the app-scoped user id. Facebook returns an address only once its owner
 * confirmed it, so it counts as verified, but Facebook is not trusted to link by it without proof.
 */
export function createFacebookClient(
  settings: UpstreamProviderSettings,
  options: { redirectUri: string; timeoutSeconds: number },
) {
  const apiUrl = required(settings.apiUrl, 'the Facebook Graph API URL');
  const config = new oidc.Configuration(
    {
      issuer: settings.issuer,
      authorization_endpoint: `${settings.issuer}/${GRAPH_VERSION}/dialog/oauth`,
      token_endpoint: `${apiUrl}/${GRAPH_VERSION}/oauth/access_token`,
    },
    settings.clientId,
    { redirect_uris: [options.redirectUri] },
    oidc.ClientSecretPost(settings.clientSecret),
  );
  config.timeout = options.timeoutSeconds;
  // Plain http is only ever configured for a loopback stand-in (config.ts), and never in production.
  if (settings.issuer.startsWith('http://')) oidc.allowInsecureRequests(config);

  const me = async (accessToken: string): Promise<FacebookUser> => {
    const url = new URL(`${apiUrl}/${GRAPH_VERSION}/me`);
    url.searchParams.set('fields', 'id,name,email');
    // https://developers.facebook.com/docs/graph-api/securing-requests: proves the token is used by this app.
    url.searchParams.set(
      'appsecret_proof',
      createHmac('sha256', settings.clientSecret).update(accessToken).digest('hex'),
    );
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${accessToken}` },
      signal: AbortSignal.timeout(options.timeoutSeconds * 1000),
    });
    if (!response.ok) {
      const reason = response.status >= 500 ? 'unavailable' : 'refused';
      throw new UpstreamFailure(reason, undefined, { cause: new Error(`Facebook /me answered ${response.status}`) });
    }
    return (await response.json()) as FacebookUser;
  };

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
        scope: 'public_profile,email',
        state: flow.state,
        code_challenge: await oidc.calculatePKCECodeChallenge(flow.codeVerifier),
        code_challenge_method: 'S256',
      });
      return { url, flow };
    },

    async redeem(response: URLSearchParams, flow: UpstreamFlow): Promise<UpstreamIdentity> {
      const callback = new URL(options.redirectUri);
      callback.search = response.toString();
      const tokens = await upstreamCall(() =>
        oidc.authorizationCodeGrant(config, callback, {
          pkceCodeVerifier: flow.codeVerifier,
          expectedState: flow.state,
        }),
      );
      const user = await upstreamCall(() => me(tokens.access_token));
      if (typeof user.id !== 'string' || !user.id) {
        throw new UpstreamFailure('refused', undefined, { cause: new Error('Facebook answered without a user id') });
      }
      const email = typeof user.email === 'string' ? user.email.toLowerCase() : null;
      return {
        subject: user.id,
        email,
        emailVerified: email !== null,
        name: typeof user.name === 'string' ? user.name.slice(0, 200) : null,
      };
    },
  };
}
