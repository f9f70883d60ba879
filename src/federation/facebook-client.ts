import { createHmac } from 'node:crypto';
import type { UpstreamProviderSettings } from '../config.ts';
import { required } from '../shared/required.ts';
import { createOAuthOnlyClient, upstreamJson } from './oauth-only-client.ts';
import { UpstreamFailure } from './upstream-client.ts';

// The Graph API version FairyID was written against; Facebook keeps each version for two years.
const GRAPH_VERSION = 'v21.0';

type FacebookUser = { id?: unknown; name?: unknown; email?: unknown };

/**
 * Facebook Login, OAuth 2 without OpenID Connect for web apps. The person is read from the Graph API
 * (`/me`, with the app secret proof Facebook asks servers to send). The subject is the app-scoped user
 * id. Facebook returns an address only once its owner confirmed it, so it counts as verified, but
 * Facebook is not trusted to link by it without proof.
 */
export function createFacebookClient(
  settings: UpstreamProviderSettings,
  options: { redirectUri: string; timeoutSeconds: number },
) {
  const apiUrl = required(settings.apiUrl, 'the Facebook Graph API URL');

  return createOAuthOnlyClient(settings, options, {
    authorizationEndpoint: `${settings.issuer}/${GRAPH_VERSION}/dialog/oauth`,
    tokenEndpoint: `${apiUrl}/${GRAPH_VERSION}/oauth/access_token`,
    authorizationParameters: { scope: 'public_profile,email' },
    async identify(accessToken) {
      const url = new URL(`${apiUrl}/${GRAPH_VERSION}/me`);
      url.searchParams.set('fields', 'id,name,email');
      // https://developers.facebook.com/docs/graph-api/securing-requests: proves the token is used by this app.
      url.searchParams.set(
        'appsecret_proof',
        createHmac('sha256', settings.clientSecret).update(accessToken).digest('hex'),
      );
      const user = await upstreamJson<FacebookUser>(
        url,
        { authorization: `Bearer ${accessToken}` },
        options.timeoutSeconds,
        'Facebook /me',
      );
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
  });
}
