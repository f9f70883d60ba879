import type { Middleware } from 'koa';
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
