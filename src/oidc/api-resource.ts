import { errors, type Client, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';

/**
 * Lets an app fetch the person's tokens at upstream sign-in providers (/api/provider-token/...).
 * Named as issue 16 asks rather than `<domain>:<action>`, for builders coming from the systems it replaces.
 */
export const PROVIDER_TOKENS_SCOPE = 'provider_tokens';

/** Scopes our own API understands, named `<domain>:<action>`. */
export const API_SCOPES = [
  'account:read',
  'organizations:read',
  'organizations:write',
  'platform:manage',
  'dust:read',
  'dust:spend',
  'dust:manage',
  'environments:read',
  'environments:write',
  'environments:connect',
  PROVIDER_TOKENS_SCOPE,
  'clients:read',
  'clients:write',
] as const;

export const apiAudience = (issuer: string) => `${issuer}/api`;

/** RFC 8707 resource indicators: our API is the one resource server, and it gets RFC 9068 JWTs. */
export function createApiResource(issuer: string, accessTokenTTL: number) {
  const audience = apiAudience(issuer);
  const info: ResourceServer = {
    scope: API_SCOPES.join(' '),
    audience,
    accessTokenTTL,
    accessTokenFormat: 'jwt',
    // ES256 signs in a fraction of RS256's time and verifies fast enough for a per-request guard.
    jwt: { sign: { alg: 'ES256' } },
  };

  return {
    getResourceServerInfo(_ctx: KoaContextWithOIDC, indicator: string, _client: Client): ResourceServer {
      if (indicator !== audience) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
      return info;
    },

    // A machine client has no use for a token without an audience, so the API is its default resource;
    // browser flows keep the opaque token that userinfo accepts unless they ask for the API.
    defaultResource(ctx: KoaContextWithOIDC, _client: Client, oneOf?: readonly string[]) {
      if (oneOf) return oneOf;
      return ctx.oidc.params?.grant_type === 'client_credentials' ? audience : undefined;
    },

    // A refresh or code exchange without `resource` gets the resource that was granted at authorization.
    useGrantedResource: () => true,
  };
}
