import { createHash } from 'node:crypto';
import { errors as joseErrors, type JWTPayload, jwtVerify, type JWTVerifyGetKey } from 'jose';

/**
 * Asymmetric algorithms only: `none` proves nothing, and an HMAC (HS256) would be keyed with our own
 * client secret, which the upstream's keys cannot vouch for (OpenID Connect Core 3.1.3.7, 10.1).
 */
export const ID_TOKEN_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/** How far an upstream's clock may run ahead of ours before its `iat` is refused. */
export const IAT_SKEW_SECONDS = 60;

export class IdTokenRefused extends Error {
  override name = 'IdTokenRefused';
}

/**
 * The checks openid-client leaves out for an ID token that came from the token endpoint over TLS
 * (OpenID Connect Core 3.1.3.7 allows skipping them; we do not): the signature against the
 * upstream's JWKS, by an asymmetric algorithm, an `iat` that is not in the future, and an
 * `at_hash` that matches the access token whenever it is present (3.1.3.8). `keys` refetches the
 * upstream's JWKS when a token names a key it has not seen (a rotation), once per token.
 */
export async function verifyIdToken(
  idToken: string,
  keys: JWTVerifyGetKey,
  expected: { issuer: string; audience: string; accessToken: string; now: number },
): Promise<JWTPayload> {
  let verified: Awaited<ReturnType<typeof jwtVerify>>;
  try {
    verified = await jwtVerify(idToken, keys, {
      algorithms: ID_TOKEN_ALGORITHMS,
      issuer: expected.issuer,
      audience: expected.audience,
      currentDate: new Date(expected.now),
      clockTolerance: IAT_SKEW_SECONDS,
    });
  } catch (error) {
    // A JWKS that does not come in time is an outage, not a verdict on the token.
    if (error instanceof joseErrors.JWKSTimeout) throw error;
    if (error instanceof joseErrors.JOSEError) throw new IdTokenRefused(`ID token refused: ${error.message}`);
    throw error;
  }
  const { payload, protectedHeader } = verified;
  if (typeof payload.iat !== 'number' || payload.iat > expected.now / 1000 + IAT_SKEW_SECONDS) {
    throw new IdTokenRefused('ID token refused: its iat is missing or in the future');
  }
  if (payload.at_hash !== undefined && payload.at_hash !== accessTokenHash(protectedHeader.alg, expected.accessToken)) {
    throw new IdTokenRefused('ID token refused: at_hash does not match the access token');
  }
  return payload;
}

/** OpenID Connect Core 3.1.3.6: the left half of the access token's hash, with the signature's hash function. */
function accessTokenHash(alg: string, accessToken: string): string {
  const bits = alg === 'EdDSA' || alg === 'Ed25519' ? '512' : alg.slice(-3);
  const digest = createHash(`sha${bits}`).update(accessToken).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}
