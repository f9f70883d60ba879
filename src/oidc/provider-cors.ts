import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { isPreflight } from '../http/cors.ts';

// oidc-provider's endpoints that programs call from a page and that answer CORS per client
// (its `clientBased` CORS): the rest are pages (authorization, logout) or public documents
// (discovery, JWKS), which oidc-provider opens to every origin.
const CLIENT_CORS_ENDPOINTS = [
  'token',
  'userinfo',
  'revocation',
  'introspection',
  'device_authorization',
  'pushed_authorization_request',
];

/**
 * In front of oidc-provider's token-type endpoints. oidc-provider answers every preflight for any
 * origin and reflects the origin of an error it answers before it knows the client; so a request
 * whose Origin is not one we allow (cors-origins.ts) is answered here: a preflight with no CORS
 * header (the browser then sends nothing), any other request with `invalid_request` and no CORS
 * header. Allowed origins pass to oidc-provider, whose `clientBasedCORS` (configuration.ts) then
 * checks the origin against the very client making the request. Requests without an Origin (programs
 * that are not browsers) and same-origin ones pass untouched.
 */
export function providerCors(deps: {
  provider: Provider;
  issuer: string;
  allows(origin: string): Promise<boolean>;
}): Middleware {
  const paths = new Set(
    CLIENT_CORS_ENDPOINTS.flatMap((name) => {
      try {
        return [deps.provider.pathFor(name)];
      } catch {
        return [];
      }
    }),
  );
  const own = new URL(deps.issuer).origin;
  return async (ctx: Context, next) => {
    const origin = ctx.get('Origin');
    if (!origin || origin === own || !paths.has(ctx.path)) return next();
    if (await deps.allows(origin)) return next();
    ctx.vary('Origin');
    ctx.set('Cache-Control', 'no-store');
    if (isPreflight(ctx)) {
      ctx.status = 204;
      return;
    }
    ctx.status = 400;
    ctx.body = { error: 'invalid_request', error_description: `origin ${origin} is not allowed` };
  };
}
