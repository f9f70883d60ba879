// The reference for the bench: a bare oidc-provider configured like FairyID's protocol surface
// (same scopes, claims, TTLs, RS256 ID tokens, ES256 JWT access tokens for ISSUER/api, client
// credentials, introspection, revocation, refresh-token rotation, PKCE, DPoP and PAR on, device flow
// off) with none of FairyID's product around it: no Koa app, hosted pages, logging, Postgres or
// key rotation. The protocol settings are a hand-kept copy of src/oidc/configuration.ts and
// src/oidc/api-resource.ts: update them together. Storage is the minimal Redis adapter when
// REDIS_URL is set, oidc-provider's built-in memory adapter otherwise.
//
// Environment: PORT, ISSUER, BENCH_CLIENTS (JSON array of client metadata, secrets in clear),
// BENCH_ADMIN_TOKEN, optional REDIS_URL and REDIS_PREFIX.
//
// Run with plain `node` (type stripping), as FairyID's sources are.
import { API_SCOPES as FAIRYID_API_SCOPES } from '../../src/oidc/api-resource.ts';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { JWK } from 'jose';
import Provider, { errors, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { createRedisAdapterFactory } from './redis-adapter.ts';

const port = Number(required('PORT'));
const issuer = required('ISSUER');
const adminToken = required('BENCH_ADMIN_TOKEN');
const clients = JSON.parse(required('BENCH_CLIENTS')) as ClientMetadata[];
const redis = process.env.REDIS_URL
  ? createRedisAdapterFactory(process.env.REDIS_URL, process.env.REDIS_PREFIX ?? 'fairyid-bench-reference:')
  : undefined;

// The same scope vocabulary as FairyID, so discovery documents are alike in size.
const API_SCOPES = [...FAIRYID_API_SCOPES];
const apiAudience = `${issuer}/api`;
const HOUR = 3600;

const configuration: Configuration = {
  ...(redis ? { adapter: redis.factory } : {}),
  clients,
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    // A fixed person: the reference has no account store (FairyID reads the account from its database).
    claims: () => ({
      sub,
      email: `${sub}@example.com`,
      email_verified: true,
      preferred_username: sub,
      updated_at: 1_700_000_000,
    }),
  }),
  jwks: { keys: ['RS256', 'ES256', 'EdDSA'].map(generateJwk) as never },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  responseTypes: ['code', 'none'],
  pkce: { required: () => true },
  clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post'],
  scopes: ['openid', 'offline_access', 'email', 'phone', 'profile', 'organization', ...API_SCOPES],
  claims: {
    openid: ['sub', 'amr', 'auth_time', 'org_id', 'org_role'],
    organization: ['org_id', 'org_role'],
    acr: null,
    sid: null,
    email: ['email', 'email_verified'],
    phone: ['phone_number', 'phone_number_verified'],
    profile: ['name', 'preferred_username', 'updated_at'],
  },
  enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'] },
  ttl: {
    AccessToken: HOUR,
    AuthorizationCode: 60,
    ClientCredentials: HOUR,
    Grant: 365 * 24 * HOUR,
    IdToken: HOUR,
    Interaction: HOUR,
    RefreshToken: 14 * 24 * HOUR,
    Session: 14 * 24 * HOUR,
  },
  rotateRefreshToken: () => true,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    deviceFlow: { enabled: false },
    resourceIndicators: {
      enabled: true,
      getResourceServerInfo(_ctx, indicator) {
        if (indicator !== apiAudience) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
        return {
          scope: API_SCOPES.join(' '),
          audience: apiAudience,
          accessTokenTTL: HOUR,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
      defaultResource(ctx: KoaContextWithOIDC, _client, oneOf) {
        if (oneOf) return oneOf;
        return ctx.oidc.params?.grant_type === 'client_credentials' ? apiAudience : (undefined as never);
      },
      useGrantedResource: () => true,
    },
    dPoP: { enabled: true },
    pushedAuthorizationRequests: { enabled: true },
  },
};

const provider = new Provider(issuer, configuration);
const oidcCallback = provider.callback();

const server = createServer((req, res) => {
  if (req.url?.startsWith('/bench-admin/')) {
    admin(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    });
    return;
  }
  oidcCallback(req, res);
});
server.listen(port, '127.0.0.1', () => console.log(`reference listening on ${issuer}`));

process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => {
    void (redis?.close() ?? Promise.resolve()).finally(() => process.exit(0));
  });
});

/**
 * POST /bench-admin/mint {"count": N, "clientId": "..."} -> [{access_token, refresh_token}]
 *
 * The reference has no sign-in pages, so the bench gets its refresh and access tokens here: for each
 * token pair a Grant (openid email profile offline_access) is saved, then a RefreshToken and an opaque
 * AccessToken are built from the provider's own models with the fields the authorization-code grant
 * would give them, so the refresh grant, userinfo and introspection see what they would after a real
 * sign-in. Loopback only and guarded by BENCH_ADMIN_TOKEN.
 */
async function admin(req: IncomingMessage, res: ServerResponse) {
  if (
    req.method !== 'POST' ||
    req.url !== '/bench-admin/mint' ||
    req.headers.authorization !== `Bearer ${adminToken}`
  ) {
    res.writeHead(404).end();
    return;
  }
  const { count, clientId } = JSON.parse(await readBody(req)) as { count: number; clientId: string };
  const client = await provider.Client.find(clientId);
  if (!client) throw new Error(`no client ${clientId}`);
  const scope = 'openid email profile offline_access';
  const minted = [];
  for (let i = 0; i < count; i += 1) {
    const accountId = `ref-${randomBytes(6).toString('hex')}`;
    const grant = new provider.Grant({ clientId, accountId });
    grant.addOIDCScope(scope);
    const grantId = await grant.save();
    const authTime = Math.floor(Date.now() / 1000);
    const common = { client, accountId, grantId, gty: 'authorization_code', scope, expiresWithSession: false };
    const refreshToken = new provider.RefreshToken({ ...common, authTime, amr: ['otp'], rotations: 0 });
    const accessToken = new provider.AccessToken({ ...common });
    minted.push({ refresh_token: await refreshToken.save(), access_token: await accessToken.save() });
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(minted));
}

function generateJwk(alg: string): JWK {
  const { privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  return { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: `reference-${alg}`, alg, use: 'sig' };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}
