import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import type { UpstreamProviderSettings } from '../config.ts';
import type { Clock } from '../shared/clock.ts';
import { required } from '../shared/required.ts';
import { createUpstreamClient, type UpstreamClient } from './upstream-client.ts';

/** Apple checks its client secrets for this audience, whatever host serves its endpoints. */
export const APPLE_AUDIENCE = 'https://appleid.apple.com';

/** A client secret lives this long: it is signed afresh for each token request (Apple allows up to six months). */
export const APPLE_CLIENT_SECRET_SECONDS = 300;

/**
 * Sign in with Apple: OpenID Connect with three differences.
 * - The answer comes back as a cross-site POST (`response_mode=form_post`, which Apple requires
 *   when asking for the name or email); federation.routes.ts receives it.
 * - The client secret is a short-lived ES256 JWT (`iss` the team, `sub` the Services ID, `aud`
 *   Apple), signed with the key configured from Apple's .p8 file, sent as `client_secret_post`.
 * - The person's name comes only on the first sign-in, in the posted `user` field (unsigned, so it
 *   is used as a display name and nothing else); the address comes from the signed ID token.
 *
 * Addresses: `email_verified` must be the boolean `true`, as for any provider (Apple sent the
 * string "true" until 2024). A hidden address (`…@privaterelay.appleid.com`, `is_private_email`)
 * is Apple's relay for this team: verified, and treated as any other address, so it matches only
 * an account that signs in with that very relay address.
 */
export function createAppleClient(
  settings: UpstreamProviderSettings,
  options: { redirectUri: string; timeoutSeconds: number; clock: Clock },
): UpstreamClient {
  const key = required(settings.appleKey, 'the Apple signing key');
  const privateKey = createPrivateKey(key.privateKeyPem);

  const clientSecret = () => {
    const issuedAt = Math.floor(options.clock.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: key.keyId })
      .setIssuer(key.teamId)
      .setSubject(settings.clientId)
      .setAudience(APPLE_AUDIENCE)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + APPLE_CLIENT_SECRET_SECONDS)
      .sign(privateKey);
  };

  return createUpstreamClient(settings, options, {
    scope: 'name email',
    responseMode: 'form_post',
    async clientAuth(_server, client, body) {
      body.set('client_id', client.client_id);
      body.set('client_secret', await clientSecret());
    },
    identify(claims, { answer }) {
      const email = typeof claims.email === 'string' ? claims.email.toLowerCase() : null;
      return {
        subject: String(claims.sub),
        email,
        emailVerified: email !== null && claims.email_verified === true,
        name: firstSignInName(answer.get('user')),
      };
    },
  });
}

/** `user={"name":{"firstName":"…","lastName":"…"},"email":"…"}`, posted on the first sign-in only. */
function firstSignInName(posted: string | null): string | null {
  if (!posted) return null;
  try {
    const { name } = JSON.parse(posted) as { name?: { firstName?: unknown; lastName?: unknown } };
    const parts = [name?.firstName, name?.lastName].filter((part): part is string => typeof part === 'string');
    const full = parts.join(' ').trim();
    return full ? full.slice(0, 200) : null;
  } catch {
    return null;
  }
}
