import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

/** Serves `handle` on a loopback address of its own (a stand-in for another site), stopped with the test. */
export async function serveStandIn(
  t: ExecutionContext,
  host: string,
  handle: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<unknown> | unknown,
): Promise<string> {
  const server = createServer((req, res) => {
    void (async () => handle(req, res, new URL(req.url ?? '/', 'http://stand-in')))();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}

export function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  return new URLSearchParams(raw);
}

/** An RS256 signing key and its JWKS, as an OpenID provider publishes it. */
export async function signingKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return {
    jwks: { keys: [jwk] },
    sign: (claims: JWTPayload, key: CryptoKey = privateKey) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key),
  };
}

/**
 * Authorization codes as a provider keeps them: each for one use, bound to the redirect URI and the
 * PKCE S256 challenge of the authorization request that got it, whatever else its grant carries.
 */
export function authorizationCodes<Grant extends object>() {
  const codes = new Map<string, { grant: Grant; challenge: string; redirectUri: string }>();
  return {
    /** Keeps `code`, in the shape the provider gives codes, for the authorization request in `query`. */
    keep(code: string, query: URLSearchParams, grant: Grant) {
      codes.set(code, {
        grant,
        challenge: String(query.get('code_challenge')),
        redirectUri: String(query.get('redirect_uri')),
      });
      return code;
    },
    /**
     * The grant of the code a token request (`form`) brings, used up whatever the outcome; undefined
     * for a code unknown or used, or with another redirect URI or a verifier that does not match.
     */
    redeem(form: URLSearchParams): Grant | undefined {
      const code = String(form.get('code'));
      const kept = codes.get(code);
      codes.delete(code);
      const challenge = createHash('sha256')
        .update(String(form.get('code_verifier')))
        .digest('base64url');
      if (!kept || kept.redirectUri !== form.get('redirect_uri') || kept.challenge !== challenge) return undefined;
      return kept.grant;
    },
  };
}
