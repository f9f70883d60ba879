import { createHash } from 'node:crypto';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  EmbeddedJWK,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
} from 'jose';
import type { Context, Middleware } from 'koa';
import type { KeyValueStore } from '../db/key-value.ts';
import { ApiError } from '../shared/api-error.ts';
import { apiAudience } from './api-resource.ts';
import { organizationOf, type Caller } from './caller.ts';
import type { GrantRevocations } from './grant-revocations.ts';
import type { ProviderHost } from './provider.ts';

const ACCESS_TOKEN_ALGS = ['ES256', 'RS256', 'EdDSA'];
const DPOP_ALGS = ['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA', 'Ed25519'];
const CLOCK_SKEW_SECONDS = 5;
const DPOP_MAX_AGE_SECONDS = 300;
const CACHE_SIZE = 10_000;

type Verified = { caller: Caller; exp: number; jkt: string | undefined; grantId: string | undefined };

/**
 * RFC 6750 bearer (and RFC 9449 DPoP) authentication for /api. JWTs (RFC 9068) are verified in
 * process against our own published keys; the result is cached until the token's `exp`, since the
 * signature check is the expensive part. Opaque tokens are looked up in the provider's store.
 */
export function createBearerGuard(deps: {
  host: ProviderHost;
  issuer: string;
  kv: KeyValueStore;
  revocations: GrantRevocations;
}) {
  const audience = apiAudience(deps.issuer);
  const cache = new Map<string, Verified>();
  let keys: { source: JSONWebKeySet; resolve: ReturnType<typeof createLocalJWKSet> } | undefined;

  const keyResolver = () => {
    const source = deps.host.publicKeys();
    if (keys?.source !== source) {
      // A rotation or retirement: tokens verified under the old set must be checked again.
      cache.clear();
      keys = { source, resolve: createLocalJWKSet(source) };
    }
    return keys.resolve;
  };

  async function verifyJwt(token: string): Promise<Verified> {
    const resolve = keyResolver();
    const cached = cache.get(token);
    if (cached && cached.exp * 1000 > Date.now()) return cached;
    cache.delete(token);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, resolve, {
        issuer: deps.issuer,
        audience,
        typ: 'at+jwt',
        algorithms: ACCESS_TOKEN_ALGS,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id'],
      }));
    } catch (error) {
      throw invalidToken(describeJoseError(error));
    }
    const clientId = String(payload.client_id);
    const verified: Verified = {
      caller: {
        sub: payload.sub!,
        clientId,
        scopes: new Set(
          String(payload.scope ?? '')
            .split(' ')
            .filter(Boolean),
        ),
        // Client-credentials tokens name the client as their subject: nobody's account.
        accountId: payload.sub === clientId ? undefined : payload.sub,
        organization: organizationOf(payload),
        expiresAt: payload.exp!,
        grantId: typeof payload.grant_id === 'string' ? payload.grant_id : undefined,
      },
      exp: payload.exp!,
      jkt: (payload.cnf as { jkt?: string } | undefined)?.jkt,
      grantId: typeof payload.grant_id === 'string' ? payload.grant_id : undefined,
    };
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(token, verified);
    return verified;
  }

  async function verifyOpaque(token: string): Promise<Verified> {
    const found = await deps.host.current().AccessToken.find(token);
    if (!found || found.isExpired) throw invalidToken('The access token is unknown, expired or revoked.');
    const audiences = [found.aud].flat().filter(Boolean);
    if (audiences.length && !audiences.includes(audience))
      throw invalidToken('The access token was not issued for this API.');
    return {
      caller: {
        sub: found.accountId ?? found.clientId,
        clientId: String(found.clientId),
        scopes: new Set(
          String(found.scope ?? '')
            .split(' ')
            .filter(Boolean),
        ),
        accountId: found.accountId,
        organization: organizationOf(found.extra),
        expiresAt: found.exp ?? 0,
        grantId: found.grantId,
      },
      exp: found.exp ?? 0,
      jkt: found.jkt,
      // Opaque tokens are deleted with their grant, so the store lookup already answers revocation.
      grantId: undefined,
    };
  }

  async function checkDpopProof(ctx: Context, token: string, jkt: string) {
    const proof = ctx.get('DPoP');
    if (!proof) throw invalidDpop('A DPoP proof is required for this DPoP-bound token.');
    let payload: JWTPayload;
    let thumbprint: string;
    try {
      const verified = await jwtVerify(proof, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: DPOP_ALGS,
        maxTokenAge: DPOP_MAX_AGE_SECONDS,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['jti', 'iat', 'htm', 'htu', 'ath'],
      });
      payload = verified.payload;
      thumbprint = await calculateJwkThumbprint(verified.protectedHeader.jwk!);
    } catch (error) {
      throw invalidDpop(`The DPoP proof is invalid: ${describeJoseError(error)}`);
    }
    const expectedUrl = new URL(ctx.path, deps.issuer).href;
    const ath = createHash('sha256').update(token).digest('base64url');
    if (thumbprint !== jkt) throw invalidDpop('The DPoP proof is signed by a key the token is not bound to.');
    if (payload.htm !== ctx.method || payload.htu !== expectedUrl)
      throw invalidDpop('The DPoP proof is for another request.');
    if (payload.ath !== ath) throw invalidDpop('The DPoP proof is for another access token.');
    // RFC 9449 11.1: a proof is single-use within its acceptance window.
    const fresh = await deps.kv.setIfAbsent(`dpop:jti:${jkt}:${String(payload.jti)}`, '1', DPOP_MAX_AGE_SECONDS * 2);
    if (!fresh) throw invalidDpop('The DPoP proof was already used.');
  }

  async function authenticate(ctx: Context): Promise<Caller> {
    const [scheme, token, ...rest] = ctx.get('Authorization').split(' ');
    const kind = scheme?.toLowerCase();
    if (!token || rest.length || (kind !== 'bearer' && kind !== 'dpop')) {
      throw new ApiError(401, 'invalid_token', 'An access token is required: send "Authorization: Bearer <token>".', {
        'WWW-Authenticate': 'Bearer realm="fairyid"',
      });
    }
    const verified = token.split('.').length === 3 ? await verifyJwt(token) : await verifyOpaque(token);
    if (verified.grantId && (await deps.revocations.isRevoked(verified.grantId))) {
      throw invalidToken('The access token was revoked.');
    }
    if (verified.jkt) await checkDpopProof(ctx, token, verified.jkt);
    else if (kind === 'dpop') throw invalidToken('The token is not DPoP-bound; send it with the Bearer scheme.');
    return verified.caller;
  }

  return {
    authenticate,
    /** Authenticates the caller and requires every listed scope (RFC 6750 3.1 insufficient_scope). */
    requireScopes(...scopes: string[]): Middleware {
      return async (ctx, next) => {
        const caller = await authenticate(ctx);
        const missing = scopes.filter((scope) => !caller.scopes.has(scope));
        if (missing.length) {
          throw new ApiError(403, 'insufficient_scope', `This requires the scope ${scopes.join(' ')}.`, {
            'WWW-Authenticate': `Bearer realm="fairyid", error="insufficient_scope", scope="${scopes.join(' ')}"`,
          });
        }
        ctx.state.caller = caller;
        await next();
      };
    },
  };
}

export type BearerGuard = ReturnType<typeof createBearerGuard>;

function invalidToken(description: string) {
  return new ApiError(401, 'invalid_token', description, {
    'WWW-Authenticate': `Bearer realm="fairyid", error="invalid_token", error_description="${description.replaceAll('"', "'")}"`,
  });
}

function invalidDpop(description: string) {
  return new ApiError(401, 'invalid_dpop_proof', description, {
    'WWW-Authenticate': `DPoP realm="fairyid", error="invalid_dpop_proof", error_description="${description.replaceAll('"', "'")}"`,
  });
}

function describeJoseError(error: unknown): string {
  const code = (error as { code?: string }).code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'The access token has expired.';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'The access token is signed with a key we do not publish.';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'The access token signature is invalid.';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return `The access token claim "${(error as { claim?: string }).claim}" is invalid.`;
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'The access token uses an algorithm we do not accept.';
    default:
      return 'The access token is malformed.';
  }
}
