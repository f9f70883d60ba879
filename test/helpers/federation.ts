import type { ExecutionContext } from 'ava';
import { authorize, type Authorization } from './authorization.ts';
import { discover, registerClient } from './relying-party.ts';
import { startTestServer } from './server.ts';
import { startUpstream } from './upstream-provider.ts';

export const ACME_SECRET = 'acme-client-secret-for-fairyid';
export const GOOGLE_SECRET = 'google-client-secret-for-fairyid';

/**
 * FairyID with two upstream providers, each a real oidc-provider on its own loopback address: a
 * generic OpenID provider `acme` ("Acme SSO", configured by issuer URL) and a stand-in for Google.
 * A relying party is registered at FairyID; `signInPage()` starts its authorization request.
 */
export async function federationSetUp(t: ExecutionContext, env: Record<string, string> = {}) {
  const acme = await startUpstream(t, '127.0.0.2');
  const google = await startUpstream(t, '127.0.0.3');
  const server = await startTestServer(t, {
    env: {
      FEDERATION_PROVIDERS: 'acme',
      FEDERATION_ACME_ISSUER: acme.issuer,
      FEDERATION_ACME_CLIENT_ID: 'fairyid-at-acme',
      FEDERATION_ACME_CLIENT_SECRET: ACME_SECRET,
      FEDERATION_ACME_NAME: 'Acme SSO',
      GOOGLE_CLIENT_ID: 'fairyid-at-google',
      GOOGLE_CLIENT_SECRET: GOOGLE_SECRET,
      GOOGLE_ISSUER_URL: google.issuer,
      ...env,
    },
  });
  await acme.register({
    clientId: 'fairyid-at-acme',
    clientSecret: ACME_SECRET,
    redirectUri: `${server.url}/federation/acme/callback`,
  });
  await google.register({
    clientId: 'fairyid-at-google',
    clientSecret: GOOGLE_SECRET,
    redirectUri: `${server.url}/federation/google/callback`,
  });
  const { clientId, clientSecret } = await registerClient(server.app);
  const config = await discover(server.url, clientId, clientSecret);
  return {
    server,
    acme,
    google,
    config,
    signInPage: (extra: Record<string, string> = {}): Promise<Authorization> => authorize(server, config, extra),
  };
}

/**
 * federationSetUp with an OAuth 2 provider that FairyID reaches through its API (GitHub, Facebook)
 * as well, served by its stand-in: FairyID is configured with `client`, and the stand-in is told the
 * same client and FairyID's callback for it.
 */
export async function oauthProviderSetUp(
  t: ExecutionContext,
  provider: 'github' | 'facebook',
  standIn: { url: string; state: { client: { id: string; secret: string; redirectUri: string } } },
  client: { id: string; secret: string },
) {
  const prefix = provider.toUpperCase();
  const setUp = await federationSetUp(t, {
    [`${prefix}_CLIENT_ID`]: client.id,
    [`${prefix}_CLIENT_SECRET`]: client.secret,
    [`${prefix}_URL`]: standIn.url,
    [`${prefix}_API_URL`]: standIn.url,
  });
  standIn.state.client = { ...client, redirectUri: `${setUp.server.url}/federation/${provider}/callback` };
  return setUp;
}
