import type { UpstreamProviderSettings } from '../config.ts';
import { required } from '../shared/required.ts';
import { createOAuthOnlyClient, upstreamJson } from './oauth-only-client.ts';
import { UpstreamFailure } from './upstream-client.ts';

type GitHubUser = { id: number; login: string; name: string | null };
type GitHubEmail = { email: string; primary: boolean; verified: boolean };

/**
 * GitHub, which speaks OAuth 2 without OpenID Connect. The person is read from the REST API: the
 * numeric user id as the subject (a login can be renamed and reused), and the primary address only
 * when GitHub marks it verified (`/user/emails`).
 */
export function createGitHubClient(
  settings: UpstreamProviderSettings,
  options: { redirectUri: string; timeoutSeconds: number },
) {
  const apiUrl = required(settings.apiUrl, 'the GitHub API URL');
  const api = <T>(path: string, accessToken: string) =>
    upstreamJson<T>(
      `${apiUrl}${path}`,
      {
        authorization: `Bearer ${accessToken}`,
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        // GitHub refuses API requests without a User-Agent.
        'user-agent': 'FairyID',
      },
      options.timeoutSeconds,
      `GitHub ${path}`,
    );

  return createOAuthOnlyClient(settings, options, {
    authorizationEndpoint: `${settings.issuer}/login/oauth/authorize`,
    tokenEndpoint: `${settings.issuer}/login/oauth/access_token`,
    // The profile, and the addresses with whether each is verified.
    authorizationParameters: { scope: 'read:user user:email', allow_signup: 'true' },
    async identify(accessToken) {
      const [user, emails] = await Promise.all([
        api<GitHubUser>('/user', accessToken),
        api<GitHubEmail[]>('/user/emails', accessToken),
      ]);
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
  });
}
