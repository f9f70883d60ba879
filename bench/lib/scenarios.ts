import type { LoadSpec } from './load.ts';
import { basicAuth, type Target } from './target.ts';

/** Tokens prepared for one target before the timed part; the refresh queue is refilled by the runs. */
export type Prepared = { target: Target; accessTokens: string[]; refreshTokens: string[] };

export type Scenario = {
  name: string;
  description: string;
  /** Why the scenario cannot run against this target, or undefined. */
  unavailable(target: Target): string | undefined;
  /** Token pairs the scenario needs minted up front (per target), given the connection count. */
  tokensNeeded?(connections: number): { access: number; refresh: number };
  spec(prepared: Prepared): LoadSpec;
};

const FORM = 'application/x-www-form-urlencoded';

export const SCENARIOS: Scenario[] = [
  {
    name: 'discovery',
    description: 'GET /.well-known/openid-configuration',
    unavailable: () => undefined,
    spec: ({ target }) => ({ url: `${target.url}/.well-known/openid-configuration`, check: (body) => body.includes('"issuer"') }),
  },
  {
    name: 'jwks',
    description: 'GET jwks_uri (3 public keys: RS256, ES256, EdDSA)',
    unavailable: () => undefined,
    spec: ({ target }) => ({ url: target.discovery.jwks_uri, check: (body) => body.includes('"keys"') }),
  },
  {
    name: 'client_credentials',
    description: 'POST /token grant_type=client_credentials scope=account:read, client_secret_basic -> ES256 JWT for ISSUER/api',
    unavailable: (target) => (target.machine ? undefined : 'needs a client_credentials client (--machine-client)'),
    spec: ({ target }) => ({
      url: target.discovery.token_endpoint,
      method: 'POST',
      headers: { authorization: basicAuth(target.machine!), 'content-type': FORM },
      body: 'grant_type=client_credentials&scope=account%3Aread',
      check: (body) => body.includes('"access_token":"ey'),
    }),
  },
  {
    name: 'refresh',
    description: 'POST /token grant_type=refresh_token with rotation (new access, ID and refresh token each time)',
    unavailable: (target) => (target.web && target.mintTokens ? undefined : 'needs a web client and a way to mint refresh tokens'),
    // One rotation chain per connection plus spares for chains lost at the end of a run.
    tokensNeeded: (connections) => ({ access: 0, refresh: connections + 8 }),
    spec: ({ target, refreshTokens }) => ({
      url: target.discovery.token_endpoint,
      method: 'POST',
      headers: { authorization: basicAuth(target.web!), 'content-type': FORM },
      // Each request takes the oldest unused token; the rotated token from each response goes back in
      // the queue (autocannon reads the response before it builds the connection's next request), so
      // each token is sent exactly once and a small pool lasts the whole run.
      setupRequest: (request) => ({
        ...request,
        body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(refreshTokens.shift() ?? 'pool-exhausted')}`,
      }),
      onResponse: (status, body) => {
        const rotated = status === 200 ? /"refresh_token":"([^"]+)"/.exec(body)?.[1] : undefined;
        if (rotated) refreshTokens.push(rotated);
      },
      check: (body) => body.includes('"refresh_token"') && body.includes('"id_token"'),
    }),
  },
  {
    name: 'introspection',
    description: 'POST /token/introspection of an opaque access token, client_secret_basic',
    unavailable: (target) =>
      target.web && target.mintTokens && target.discovery.introspection_endpoint ? undefined : 'needs a web client and access tokens',
    tokensNeeded: (connections) => ({ access: connections, refresh: 0 }),
    spec: ({ target, accessTokens }) => {
      let next = 0;
      return {
        url: target.discovery.introspection_endpoint!,
        method: 'POST',
        headers: { authorization: basicAuth(target.web!), 'content-type': FORM },
        setupRequest: (request) => ({ ...request, body: `token=${accessTokens[next++ % accessTokens.length]}` }),
        check: (body) => body.includes('"active":true'),
      };
    },
  },
  {
    name: 'userinfo',
    description: 'GET /me with an opaque access token (scope openid email profile)',
    unavailable: (target) =>
      target.mintTokens && target.discovery.userinfo_endpoint ? undefined : 'needs access tokens',
    tokensNeeded: (connections) => ({ access: connections, refresh: 0 }),
    spec: ({ target, accessTokens }) => {
      let next = 0;
      return {
        url: target.discovery.userinfo_endpoint!,
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, authorization: `Bearer ${accessTokens[next++ % accessTokens.length]}` },
        }),
        check: (body) => body.includes('"sub"'),
      };
    },
  },
];

export const SCENARIO_NAMES = [...SCENARIOS.map((scenario) => scenario.name), 'signin'];
