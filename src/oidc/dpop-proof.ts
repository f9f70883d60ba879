import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { KeyValueStore } from '../db/key-value.ts';

/**
 * The DPoP proof algorithms we accept, at the token endpoint (configuration.ts) and at /api alike,
 * so a key the authorization server binds a token to can always prove possession at the API.
 * /api announces them in the `algs` parameter of its DPoP challenge (RFC 9449 7.1).
 */
export const DPOP_SIGNING_ALGS = ['ES256', 'EdDSA', 'Ed25519'] as const;

/**
 * How far a proof's `iat` may lie from our clock, either way: the window oidc-provider applies at the
 * token endpoint, so a client whose clock the authorization server tolerates is tolerated here too.
 * RFC 9449 11.1 asks for a window of seconds or minutes; replay inside it is stopped by `jti`.
 */
export const DPOP_IAT_WINDOW_SECONDS = 300;

// Members that only a private or symmetric JWK has (RFC 7518 6.2.2, 6.3.2, 6.4.1; RFC 8037 2).
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** A proof that does not prove what it must: `invalid_dpop_proof` (RFC 9449 7.1). */
export class InvalidDpopProof extends Error {
  override name = 'InvalidDpopProof';
}

/** The access token is bound to another key: `invalid_token`, as in RFC 9449 7.1's "Invalid DPoP key binding". */
export class DpopKeyMismatch extends Error {
  override name = 'DpopKeyMismatch';
}

export type ProofRequest = {
  /** Every `DPoP` header field of the request; RFC 9449 4.3 allows exactly one. */
  proofs: readonly string[];
  method: string;
  /** The URL the request was made to, as the client saw it (ISSUER's origin and the path). */
  url: string;
};

/**
 * Checks a DPoP proof for a request to a protected resource, step by step as RFC 9449 4.3 and 7.1
 * list them, so each failure says which check it failed.
 *
 * Nonces (RFC 9449 9) are neither issued nor required at /api. Proofs are single-use through a
 * `jti` store every instance shares, bound to one request (htm, htu) and one access token (ath), and
 * accepted only within DPOP_IAT_WINDOW_SECONDS of their iat; what a nonce adds (11.2: refusing proofs
 * an attacker pre-made for later use) is thus limited to that window, while it would cost every
 * client an extra 401 round trip per nonce and us a nonce shared across instances. A `nonce` claim
 * is ignored: clients keep nonces per origin, and the token endpoint shares ours.
 */
export function createDpopProofVerifier(deps: { kv: KeyValueStore }) {
  return async function verifyProof(request: ProofRequest, accessToken: string, jkt: string): Promise<void> {
    const [proof, ...more] = request.proofs;
    if (!proof) throw new InvalidDpopProof('A DPoP proof is required for this DPoP-bound token.');
    // A JWT has no comma, so one in the value is two fields an intermediary folded into one (RFC 9110 5.3).
    if (more.length || proof.includes(','))
      throw new InvalidDpopProof('The request carries more than one DPoP header.');

    const header = protectedHeaderOf(proof);
    if (header.typ !== 'dpop+jwt') throw new InvalidDpopProof("The DPoP proof's typ header must be dpop+jwt.");
    if (!(DPOP_SIGNING_ALGS as readonly unknown[]).includes(header.alg)) {
      throw new InvalidDpopProof(
        `The DPoP proof is signed with an algorithm we do not accept; use one of ${DPOP_SIGNING_ALGS.join(', ')}.`,
      );
    }
    const jwk = header.jwk;
    if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk))
      throw new InvalidDpopProof('The DPoP proof has no jwk header with its public key.');
    // RFC 9449 4.3 check 7: a client that puts its private key in the header has given it away.
    if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk))
      throw new InvalidDpopProof("The DPoP proof's jwk header carries a private key; send the public key only.");

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...DPOP_SIGNING_ALGS] }));
    } catch (error) {
      throw new InvalidDpopProof(describeProofError(error));
    }
    const { jti, htm, htu, iat, ath } = payload as Record<string, unknown>;
    for (const [name, value] of Object.entries({ jti, htm, htu, ath })) {
      if (typeof value !== 'string' || !value) throw new InvalidDpopProof(`The DPoP proof has no ${name} claim.`);
    }
    if (typeof iat !== 'number') throw new InvalidDpopProof('The DPoP proof has no iat claim.');

    const seconds = Math.floor(Date.now() / 1000);
    if (iat < seconds - DPOP_IAT_WINDOW_SECONDS) {
      throw new InvalidDpopProof(
        `The DPoP proof is too old: its iat is more than ${DPOP_IAT_WINDOW_SECONDS} seconds ago. ` +
          'Make a new proof for each request.',
      );
    }
    if (iat > seconds + DPOP_IAT_WINDOW_SECONDS)
      throw new InvalidDpopProof("The DPoP proof's iat is in the future: check the client's clock.");
    if (htm !== request.method)
      throw new InvalidDpopProof(`The DPoP proof is for another HTTP method: its htm must be ${request.method}.`);
    if (normalizeHtu(htu as string) !== normalizeHtu(request.url))
      throw new InvalidDpopProof(`The DPoP proof is for another URL: its htu must be ${normalizeHtu(request.url)}.`);
    if (ath !== createHash('sha256').update(accessToken).digest('base64url'))
      throw new InvalidDpopProof("The DPoP proof is for another access token: its ath is not this token's hash.");
    if ((await calculateJwkThumbprint(jwk as JWK)) !== jkt)
      throw new DpopKeyMismatch('The access token is bound to another key than the one that signed the DPoP proof.');

    // RFC 9449 11.1: a proof is single-use within its window, on every instance (the key-value store
    // is Redis when there is more than one). Checked last, so a proof refused above is not spent.
    const key = createHash('sha256')
      .update(`${jkt}:${jti as string}`)
      .digest('base64url');
    const fresh = await deps.kv.setIfAbsent(`dpop:jti:${key}`, '1', DPOP_IAT_WINDOW_SECONDS * 2);
    if (!fresh) throw new InvalidDpopProof('The DPoP proof was already used: make a new proof for each request.');
  };
}

/**
 * `htu` and the request URL compared after RFC 3986 6.2.2 syntax-based and 6.2.3 scheme-based
 * normalisation, as RFC 9449 4.3 says a server SHOULD, query and fragment ignored (4.3 check 9). The
 * WHATWG parser lower-cases scheme and host, drops the default port and resolves dot segments; the
 * path's percent-encodings get upper-case hex and unreserved characters decoded (RFC 3986 6.2.2.2).
 */
export function normalizeHtu(value: string): string | undefined {
  const url = URL.parse(value);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return undefined;
  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/%[0-9a-f]{2}/gi, (encoded) => {
    const char = String.fromCharCode(Number.parseInt(encoded.slice(1), 16));
    return /^[A-Za-z0-9\-._~]$/.test(char) ? char : encoded.toUpperCase();
  });
  return url.href;
}

function protectedHeaderOf(proof: string) {
  try {
    return decodeProtectedHeader(proof);
  } catch {
    throw new InvalidDpopProof('The DPoP proof is not a well-formed JWT.');
  }
}

function describeProofError(error: unknown): string {
  switch ((error as { code?: string }).code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return "The DPoP proof's signature does not verify with the key in its jwk header.";
    case 'ERR_JWT_EXPIRED':
      return 'The DPoP proof has expired (exp).';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return `The DPoP proof's ${(error as { claim?: string }).claim} claim is invalid.`;
    default:
      return 'The DPoP proof is not a well-formed JWT, or its jwk header is not a usable public key.';
  }
}
