import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { Context, Middleware } from 'koa';
import type { KeyValueStore } from '../db/key-value.ts';
import { ApiError } from '../shared/api-error.ts';
import { apiAudience } from './api-resource.ts';
import { organizationOf, type Caller } from './caller.ts';
import { createDpopProofVerifier, DPOP_SIGNING_ALGS, DpopKeyMismatch, InvalidDpopProof } from './dpop-proof.ts';
import type { ProviderHost } from './provider.ts';
import type { RefusalMarks } from './refusal-marks.ts';
import { required } from '../shared/required.ts';

const ACCESS_TOKEN_ALGS = ['ES256', 'RS256', 'EdDSA'];
const CLOCK_SKEW_SECONDS = 5;
const CACHE_SIZE = 10_000;

type Verified = { caller: Caller; exp: number; jkt: string | undefined; grantId: string | undefined };

/**
 * RFC 6750 bearer and RFC 9449 DPoP authentication for /api. JWTs (RFC 9068) are verified in
 * process against our own published keys; the result is cached until the token's `exp`, since the
 * signature check is the expensive part. A DPoP-bound token (`cnf.jkt`) passes only with the DPoP
 * scheme and a fresh proof from its key (dpop-proof.ts).
 */
export function createBearerGuard(deps: {
  host: ProviderHost;
  issuer: string;
  kv: KeyValueStore;
  /** Revoked grants and suspended or deleted accounts: their tokens are refused, whatever their signature. */
  marks: RefusalMarks;
  /**
   * The registered clients (cached in memory, client.repository.ts): a token of a client that was
   * deleted, by its owner or with its organization or account, is refused even before it expires.
   */
  clients: { find(clientId: string): Promise<unknown> };
}) {
  const audience = apiAudience(deps.issuer);
  const cache = new Map<string, Verified>();
  const verifyProof = createDpopProofVerifier({ kv: deps.kv });
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

  /**
   * A token verified before and not expired yet, found without a promise or an await: what nearly
   * every request presents. The key set is checked first, so a rotation still empties the cache.
   */
  function remembered(token: string): Verified | undefined {
    keyResolver();
    const cached = cache.get(token);
    if (cached === undefined) return undefined;
    if (cached.exp * 1000 > Date.now()) return cached;
    cache.delete(token);
    return undefined;
  }

  async function verifyJwt(token: string, used: Scheme): Promise<Verified> {
    const resolve = keyResolver();
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
      throw invalidToken(used, describeJoseError(error));
    }
    const clientId = String(payload.client_id);
    const verified: Verified = {
      caller: {
        sub: required(payload.sub, 'the token subject'),
        clientId,
        scopes: new Set(
          String(payload.scope ?? '')
            .split(' ')
            .filter(Boolean),
        ),
        // Client-credentials tokens name the client as their subject: nobody's account.
        accountId: payload.sub === clientId ? undefined : payload.sub,
        organization: organizationOf(payload),
        expiresAt: required(payload.exp, 'the token expiry'),
        grantId: typeof payload.grant_id === 'string' ? payload.grant_id : undefined,
      },
      exp: required(payload.exp, 'the token expiry'),
      jkt: (payload.cnf as { jkt?: string } | undefined)?.jkt,
      grantId: typeof payload.grant_id === 'string' ? payload.grant_id : undefined,
    };
    const oldest = cache.keys().next();
    if (cache.size >= CACHE_SIZE && !oldest.done) cache.delete(oldest.value);
    cache.set(token, verified);
    return verified;
  }

  async function authenticate(ctx: Context): Promise<Caller> {
    // `<scheme> <token>`, one space, nothing after the token (RFC 6750 2.1, RFC 9449 7.1).
    const header = ctx.req.headers.authorization ?? '';
    const space = header.indexOf(' ');
    const token = space === -1 ? '' : header.slice(space + 1);
    const kind = header.slice(0, space).toLowerCase();
    if (!token || token.includes(' ') || (kind !== 'bearer' && kind !== 'dpop')) {
      // RFC 6750 3.1: a request without credentials gets the challenges without an error code.
      throw new ApiError(
        401,
        'invalid_token',
        'An access token is required: send "Authorization: Bearer <token>", or DPoP <token> with a DPoP proof.',
        {
          'WWW-Authenticate': challenges(),
        },
      );
    }
    const used: Scheme = kind === 'dpop' ? 'DPoP' : 'Bearer';
    // Every token issued for the API is a JWT (api-resource.ts sets accessTokenFormat: 'jwt'), so an
    // opaque token was issued for userinfo, whatever scopes it holds: it is not one for this API.
    if (!isCompactJws(token)) {
      throw invalidToken(used, `The access token was not issued for this API: ask for it with resource=${audience}.`);
    }
    const verified = remembered(token) ?? (await verifyJwt(token, used));
    const { grantId, caller } = verified;
    // The marks from memory where they are known (always for a client's own token, which has none):
    // then only the client, itself from memory. Otherwise both lookups at once.
    const known = deps.marks.remembered(grantId, caller.accountId);
    const [{ revoked, blocked }, client] = known
      ? [known, await deps.clients.find(caller.clientId)]
      : await Promise.all([deps.marks.of(grantId, caller.accountId), deps.clients.find(caller.clientId)]);
    if (revoked) throw invalidToken(used, 'The access token was revoked.');
    if (!client) throw invalidToken(used, 'The app this access token was issued to was deleted.');
    if (blocked) throw invalidToken(used, 'The account this access token was issued for is suspended or deleted.');
    if (verified.jkt) {
      // RFC 9449 7.2: a DPoP-bound token received as a bearer token MUST be refused, proof or not.
      if (used === 'Bearer') {
        throw invalidToken(
          'DPoP',
          'The access token is DPoP-bound: send it as "Authorization: DPoP <token>" with a DPoP proof.',
        );
      }
      await checkProof(ctx, token, verified.jkt);
    } else if (used === 'DPoP') {
      throw invalidToken('DPoP', 'The access token is not DPoP-bound: send it with the Bearer scheme.');
    }
    return verified.caller;
  }

  async function checkProof(ctx: Context, token: string, jkt: string) {
    try {
      await verifyProof(
        {
          proofs: ctx.req.headersDistinct.dpop ?? [],
          method: ctx.method,
          // The URL as the client addressed it: our public origin (ISSUER), whatever proxy is in between.
          url: new URL(ctx.path, deps.issuer).href,
        },
        token,
        jkt,
      );
    } catch (error) {
      if (error instanceof InvalidDpopProof) throw failure('DPoP', 'invalid_dpop_proof', error.message);
      if (error instanceof DpopKeyMismatch) throw invalidToken('DPoP', error.message);
      throw error;
    }
  }

  return {
    authenticate,
    /** Authenticates the caller and requires every listed scope (RFC 6750 3.1 insufficient_scope). */
    requireScopes(...scopes: string[]): Middleware {
      return async (ctx, next) => {
        const caller = await authenticate(ctx);
        if (scopes.some((scope) => !caller.scopes.has(scope))) {
          const used: Scheme = ctx.get('Authorization').toLowerCase().startsWith('dpop ') ? 'DPoP' : 'Bearer';
          throw new ApiError(403, 'insufficient_scope', `This requires the scope ${scopes.join(' ')}.`, {
            'WWW-Authenticate': challenges({ scheme: used, error: 'insufficient_scope', scope: scopes.join(' ') }),
          });
        }
        ctx.state.caller = caller;
        await next();
      };
    },
  };
}

export type BearerGuard = ReturnType<typeof createBearerGuard>;

type Scheme = 'Bearer' | 'DPoP';
type Failure = { scheme: Scheme; error: string; description?: string; scope?: string };

/**
 * The WWW-Authenticate value of every refusal: we take both schemes, so both challenges are offered
 * (RFC 9449 7.2), the DPoP one with the proof algorithms we accept (RFC 9449 7.1); the error code
 * rides on the challenge of the scheme it concerns. One field value, comma-separated (RFC 9110 11.6.1).
 */
function challenges(failure?: Failure): string {
  const challenge = (scheme: Scheme) => {
    const params = ['realm="fairyid"'];
    if (failure?.scheme === scheme) {
      params.push(`error="${failure.error}"`);
      if (failure.description) params.push(`error_description="${quotable(failure.description)}"`);
      if (failure.scope) params.push(`scope="${failure.scope}"`);
    }
    if (scheme === 'DPoP') params.push(`algs="${DPOP_SIGNING_ALGS.join(' ')}"`);
    return `${scheme} ${params.join(', ')}`;
  };
  return `${challenge('Bearer')}, ${challenge('DPoP')}`;
}

function failure(scheme: Scheme, error: string, description: string) {
  return new ApiError(401, error, description, {
    'WWW-Authenticate': challenges({ scheme, error, description }),
  });
}

function invalidToken(scheme: Scheme, description: string) {
  return failure(scheme, 'invalid_token', description);
}

/** Three dot-separated parts, as a JWS in compact form has (RFC 7515 7.1), counted without splitting the token. */
function isCompactJws(token: string): boolean {
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  return second !== -1 && token.indexOf('.', second + 1) === -1;
}

// RFC 6750 3: error_description is printable ASCII without `"` or `\`.
function quotable(description: string) {
  return description.replaceAll('"', "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '');
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
