import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { ProviderHost } from './provider.ts';

/**
 * Hands the request to the current provider (a Koa app itself) when it has a route for the path; any
 * other path goes on to `next`, where the error pages answer it with our own 404 page instead of
 * the library's bare "Not Found".
 */
export function providerMount(host: ProviderHost): Middleware {
  const handlers = new WeakMap<Provider, ReturnType<Provider['callback']>>();
  const routes = new WeakMap<Provider, (path: string) => boolean>();
  return async (ctx, next) => {
    const provider = host.current();
    let owns = routes.get(provider);
    if (!owns) {
      owns = providerRoutes(provider);
      routes.set(provider, owns);
    }
    if (!owns(ctx.path)) return next();
    let handler = handlers.get(provider);
    if (!handler) {
      handler = provider.callback();
      handlers.set(provider, handler);
    }
    ctx.respond = false;
    await handler(ctx.req, ctx.res);
  };
}

// The endpoints of oidc-provider that programs call, whose errors are JSON (RFC 6749 §5.2, RFC 7662,
// RFC 7009, RFC 8628 §3.2, RFC 9126); the rest (authorization, device verification, logout) are pages.
const PROGRAM_ENDPOINTS = [
  'token',
  'introspection',
  'revocation',
  'device_authorization',
  'pushed_authorization_request',
  'backchannel_authentication',
  'registration',
  'userinfo',
  'jwks',
];

/** Whether a request is for one of oidc-provider's program endpoints (or its discovery documents). */
export function providerProgramRequest(provider: Provider): (ctx: Pick<Context, 'path'>) => boolean {
  const paths = new Set(
    PROGRAM_ENDPOINTS.flatMap((name) => {
      try {
        return [provider.pathFor(name)];
      } catch {
        // A feature that is turned off has no route.
        return [];
      }
    }),
  );
  return (ctx) => paths.has(ctx.path) || ctx.path.startsWith('/.well-known/');
}

// Every named route oidc-provider declares without a parameter (lib/helpers/initialize_app.js); the
// ones with a parameter are one path segment below authorization (resume), code_verification (device
// resume) and registration (the client's own URL).
const ROUTE_NAMES = [
  ...PROGRAM_ENDPOINTS,
  'authorization',
  'end_session',
  'end_session_confirm',
  'end_session_success',
  'code_verification',
  'challenge',
  'credential',
];
const ROUTES_WITH_A_PARAMETER = ['authorization', 'code_verification', 'registration'];

/** Whether oidc-provider has a route for a path: its endpoints and its discovery documents. */
function providerRoutes(provider: Provider): (path: string) => boolean {
  const pathOf = (name: string) => {
    try {
      return [provider.pathFor(name)];
    } catch {
      // A feature that is turned off has no route.
      return [];
    }
  };
  const exact = new Set([
    ...ROUTE_NAMES.flatMap(pathOf),
    '/.well-known/openid-configuration',
    '/.well-known/oauth-authorization-server',
  ]);
  const parents = ROUTES_WITH_A_PARAMETER.flatMap(pathOf);
  return (path) =>
    exact.has(path) ||
    parents.some((parent) => path.startsWith(`${parent}/`) && !path.slice(parent.length + 1).includes('/'));
}
