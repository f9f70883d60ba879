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
