import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { ProviderHost } from './provider.ts';

/** Hands the request to the current provider (a Koa app itself); anything our own routes did not take. */
export function providerMount(host: ProviderHost): Middleware {
  const handlers = new WeakMap<Provider, ReturnType<Provider['callback']>>();
  return async (ctx) => {
    const provider = host.current();
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
