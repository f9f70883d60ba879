import * as oidc from 'openid-client';
import type { UpstreamProviderSettings } from '../config.ts';
import type { Clock } from '../shared/clock.ts';
import { IdTokenRefused } from './id-token-checks.ts';
import { createUpstreamClient, type UpstreamClient } from './upstream-client.ts';

/**
 * Microsoft (Entra ID and personal accounts) through its v2.0 endpoint for the configured tenant
 * (`common`, `organizations`, `consumers` or one tenant). `common` and `organizations` discover the
 * template issuer `…/{tenantid}/v2.0`: each ID token's `iss` must be that template with the token's
 * own `tid` (upstream-client.ts). The discovery document is read from its own URL, since its
 * issuer is not the URL it comes from; it must name an issuer on the same host.
 *
 * The identity is the tenant and the person's object id (`tid` and `oid`, which Microsoft names
 * the key for a user across its apps; `sub` differs per app). Microsoft's `email` is whatever a
 * tenant's administrator or the person typed, verified by nobody: it is kept for the account pages
 * and never links, matches or becomes an account's address.
 */
export function createMicrosoftClient(
  settings: UpstreamProviderSettings,
  options: { redirectUri: string; timeoutSeconds: number; clock: Clock },
): UpstreamClient {
  const { origin } = new URL(settings.issuer);
  // `https://login.microsoftonline.com/<tenant, or {tenantid}>/v2.0`, on the configured host.
  const tenantIssuer = (issuer: string) =>
    issuer.startsWith(`${origin}/`) &&
    issuer.endsWith('/v2.0') &&
    /^[^/]+$/.test(issuer.slice(origin.length + 1, -'/v2.0'.length));
  return createUpstreamClient(settings, options, {
    scope: 'openid email profile',
    clientAuth: oidc.ClientSecretPost(settings.clientSecret),
    discoveryUrl: `${settings.issuer}/.well-known/openid-configuration`,
    acceptsIssuer: tenantIssuer,
    identify(claims) {
      if (typeof claims.tid !== 'string' || typeof claims.oid !== 'string' || !claims.oid) {
        throw new IdTokenRefused('ID token refused: Microsoft named no tenant (tid) or object id (oid)');
      }
      return {
        subject: `${claims.tid}:${claims.oid}`,
        email: typeof claims.email === 'string' ? claims.email.toLowerCase() : null,
        emailVerified: false,
        name: typeof claims.name === 'string' ? claims.name.slice(0, 200) : null,
      };
    },
  });
}
