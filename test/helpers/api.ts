import * as oidc from 'openid-client';
import type { TestServer } from './server.ts';
import { discover, pkcePair, registerClient, RP_REDIRECT } from './relying-party.ts';
import { signInThroughPages } from './sign-in.ts';

/** Signs `email` in through the pages and returns an API (RFC 9068) access token with `scopes`. */
export async function apiToken(server: TestServer, email: string, scopes: string[], client?: TestClient) {
  return (await apiTokens(server, email, scopes, client ? { client } : {})).tokens.access_token;
}

type TestClient = { clientId: string; clientSecret?: string | undefined };

/**
 * The whole token response and the relying party's configuration, for tests that refresh or revoke.
 * Each call registers an app of its own unless `client` names one. With `dpopKeys` the token is
 * DPoP-bound to them (RFC 9449 5) and `DPoP` is the handle that made it.
 */
export async function apiTokens(
  server: TestServer,
  email: string,
  scopes: string[],
  options: { client?: TestClient; dpopKeys?: oidc.CryptoKeyPair } = {},
) {
  const { clientId, clientSecret } = options.client ?? (await registerClient(server.app));
  const config = await discover(server.url, clientId, clientSecret);
  const { verifier, challenge } = await pkcePair();
  const resource = `${server.url}/api`;
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: ['openid', ...scopes].join(' '),
    resource,
    // OIDC Core 11: offline_access (a refresh token) comes only with prompt=consent.
    ...(scopes.includes('offline_access') ? { prompt: 'consent' } : {}),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const { url: callback } = await signInThroughPages(server.url, url.href, email);
  const DPoP = options.dpopKeys && oidc.getDPoPHandle(config, options.dpopKeys);
  const tokens = await oidc.authorizationCodeGrant(
    config,
    callback,
    { pkceCodeVerifier: verifier },
    { resource },
    DPoP ? { DPoP } : undefined,
  );
  return { config, tokens, DPoP };
}

/** A JSON call to /api as `token`; returns the status and the parsed body. */
export async function callApi(server: TestServer, token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}
