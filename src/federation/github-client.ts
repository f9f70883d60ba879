import * as oidc from 'openid-client';
import type { UpstreamProviderSettings } from '../config.ts';
import { required } from '../shared/required.ts';
import { UpstreamFailure, type UpstreamFlow, type UpstreamIdentity, upstreamCall } from './upstream-client.ts';

type GitHubUser = { id: number; login: string; name: string | null };
type GitHubEmail = { email: string; primary: boolean; verified: boolean };

/**
 * GitHub, which speaks OAuth 2 without OpenID Connect: openid-client runs the code flow (state and
 * PKCE; GitHub sends no `iss`, so its own redirect URI is what keeps its answers apart), then the
 * person is read from the REST API: the numeric user id as the subject (a login can be renamed and
 * reused), and the primary address only when GitHub marks it verified (`/user/emails`).
 */
export function createGitHubClient(
  settings: UpstreamProviderSettings,
  options: { redirectUri: string; timeoutSeconds: number },
) {
  const config = new oidc.Configuration(
    {
      issuer: settings.issuer,
      authorization_endpoint: `${settings.issuer}/login/oauth/authorize`,
      token_endpoint: `${settings.issuer}/login/oauth/access_token`,
    },
    settings.clientId,
    { redirect_uris: [options.redirectUri] },
    oidc.ClientSecretPost(settings.clientSecret),
  );
  config.timeout = options.timeoutSeconds;
  // Plain http is only ever configured for a loopback stand-in (config.ts), and never in production.
  if (settings.issuer.startsWith('http://')) oidc.allowInsecureRequests(config);
  const apiUrl = required(settings.apiUrl, 'the GitHub API URL');

  const api = async <T>(path: string, accessToken: string): Promise<T> => {
    const response = await fetch(`${apiUrl}${path}`, {
      headers: {
        authorization: `Bearer ${accessToken}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        // GitHub refuses API requests without a User-Agent.
        'user-agent': 'FairyID',
      },
      signal: AbortSignal.timeout(options.timeoutSeconds * 1000),
    });
    if (!response.ok) {
      const reason = response.status >= 500 ? 'unavailable' : 'refused';
      throw new UpstreamFailure(reason, undefined, { cause: new Error(`GitHub ${path} answered ${response.status}`) });
    }
    return (await response.json()) as T;
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
        // The profile, and the addresses with whether each is verified.
        scope: 'read:user user:email',
        state: flow.state,
        code_challenge: await oidc.calculatePKCECodeChallenge(flow.codeVerifier),
        code_challenge_method: 'S256',
        allow_signup: 'true',
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
      const [user, emails] = await upstreamCall(() =>
        Promise.all([
          api<GitHubUser>('/user', tokens.access_token),
          api<GitHubEmail[]>('/user/emails', tokens.access_token),
        ]),
      );
      if (typeof user.id !== 'number' || !Array.isArray(emails)) {
        throw new UpstreamFailure('refused', undefined, { cause: new Error('GitHub answered an unexpected shape') });
      }
      const primary = emails.find((entry) => entry.primary === true);
      return {
        subject: String(user.id),
        email: typeof primary?.email === 'string' ? primary.email.toLowerCase() : null,
        emailVerified: primary?.verified === true,
        name: typeof user.name === 'string' ? user.name.slice(0, 200) : user.login,
      };
    },
  };
}
