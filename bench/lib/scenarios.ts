import type { LoadSpec } from './load.ts';
import { jwtPart, postForm } from './preflight.ts';
import { basicAuth, type Target } from './target.ts';

type JwtToken = { token: string; exp: number };

/** Tokens prepared for one target before the timed part; the refresh queue is refilled by the runs. */
export type Prepared = {
  target: Target;
  accessTokens: string[];
  refreshTokens: string[];
  /** api_jwt: a client-credentials JWT for ISSUER/api. */
  machineApiToken?: JwtToken;
  /** api_jwt_person: a person's JWT for ISSUER/api, with grant_id. */
  personApiToken?: JwtToken;
};

export type Scenario = {
  name: string;
  description: string;
  /** Why the scenario cannot run against this target, or undefined. */
  unavailable(target: Target): string | undefined;
  /** Token pairs the scenario needs minted up front (per target), given the connection count. */
  tokensNeeded?(connections: number): { access: number; refresh: number };
  /** Anything else to make before a timed run (untimed). */
  prepare?(prepared: Prepared): Promise<void>;
  spec(prepared: Prepared): LoadSpec;
  /** The goal for FairyID/baseline (a minimum ratio); the table says whether it was met. */
  goal?: number;
};

const FORM = 'application/x-www-form-urlencoded';

export const SCENARIOS: Scenario[] = [
  {
    name: 'discovery',
    description: 'GET /.well-known/openid-configuration',
    goal: 1.0,
    unavailable: notOnHello(() => undefined),
    spec: ({ target }) => ({
      url: `${target.url}/.well-known/openid-configuration`,
      check: (body) => body.includes('"issuer"'),
    }),
  },
  {
    name: 'jwks',
    description: 'GET jwks_uri (3 public keys: RS256, ES256, EdDSA)',
    goal: 1.0,
    unavailable: notOnHello(() => undefined),
    spec: ({ target }) => ({ url: target.discovery.jwks_uri, check: (body) => body.includes('"keys"') }),
  },
  {
    name: 'client_credentials',
    description:
      'POST /token grant_type=client_credentials scope=account:read, client_secret_basic -> ES256 JWT for ISSUER/api',
    goal: 0.9,
    unavailable: notOnHello((target) =>
      target.machine ? undefined : 'needs a client_credentials client (--machine-client)',
    ),
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
    goal: 0.8,
    unavailable: notOnHello((target) =>
      target.web && target.mintTokens ? undefined : 'needs a web client and a way to mint refresh tokens',
    ),
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
    goal: 0.8,
    unavailable: notOnHello((target) =>
      target.web && target.mintTokens && target.discovery.introspection_endpoint
        ? undefined
        : 'needs a web client and access tokens',
    ),
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
    goal: 0.7,
    unavailable: notOnHello((target) =>
      target.mintTokens && target.discovery.userinfo_endpoint ? undefined : 'needs access tokens',
    ),
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
  {
    // Compared with the bare Koa hello world, not with the oidc-provider reference (which has no /api).
    name: 'api_jwt',
    description:
      'GET /api/whoami with a client-credentials ES256 JWT for ISSUER/api (no grant_id: no revocation lookup)',
    goal: 0.6,
    unavailable: (target) =>
      target.kind === 'hello'
        ? undefined
        : target.kind === 'reference'
          ? 'no /api (bare oidc-provider)'
          : target.machine
            ? undefined
            : 'needs a client_credentials client (--machine-client)',
    async prepare(state) {
      if (state.target.kind === 'hello' || fresh(state.machineApiToken)) return;
      const body = await postForm(state.target.discovery.token_endpoint, state.target.machine!, {
        grant_type: 'client_credentials',
        scope: 'account:read',
      });
      state.machineApiToken = jwtToken(body.access_token);
    },
    spec: (state) => apiSpec(state, state.machineApiToken),
  },
  {
    name: 'api_jwt_person',
    description:
      "GET /api/whoami with a person's ES256 JWT for ISSUER/api (grant_id: one revocation lookup in the shared store)",
    goal: 0.6,
    unavailable: (target) =>
      target.kind === 'hello'
        ? undefined
        : target.kind === 'reference'
          ? 'no /api (bare oidc-provider)'
          : target.personApiToken
            ? undefined
            : 'needs sign-in through the pages (--web-client, /dev/outbox)',
    async prepare(state) {
      if (state.target.kind === 'hello' || fresh(state.personApiToken)) return;
      state.personApiToken = jwtToken(await state.target.personApiToken!());
    },
    spec: (state) => apiSpec(state, state.personApiToken),
  },
];

/** Scenarios that are not autocannon runs, handled by run.ts. */
export const PHASES = ['signin', 'token_after_expired_rows', 'terminal'];
export const SCENARIO_NAMES = [...SCENARIOS.map((scenario) => scenario.name), ...PHASES];

/** The Koa hello world serves only as the api_* baseline. */
function notOnHello(available: (target: Target) => string | undefined) {
  return (target: Target) =>
    target.kind === 'hello' ? 'the Koa hello world is the baseline of api_* only' : available(target);
}

/** GET /api/whoami with the token on FairyID; GET / on the Koa hello world. */
function apiSpec({ target }: Prepared, token: JwtToken | undefined): LoadSpec {
  if (target.kind === 'hello') return { url: `${target.url}/`, check: (body) => body.includes('"hello"') };
  return {
    url: `${target.url}/api/whoami`,
    headers: { authorization: `Bearer ${token!.token}` },
    check: (body) => body.includes('"sub"') && body.includes('"scope":"account:read"'),
  };
}

function jwtToken(token: string | undefined): JwtToken {
  const exp = jwtPart(token, 1).exp;
  if (typeof exp !== 'number') throw new Error('the API token has no exp');
  return { token: token!, exp };
}

/** Still valid for 10 minutes: long enough for any one timed run. */
function fresh(token: JwtToken | undefined) {
  return Boolean(token && token.exp * 1000 > Date.now() + 10 * 60_000);
}
