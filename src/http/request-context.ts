import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { requestIdFrom, runInRequestScope } from '../shared/request-scope.ts';

/** A request once answered, for the metrics: its route pattern if a router matched one, never more of the path. */
export type AnsweredRequest = { method: string; path: string; status: number; matchedRoute: unknown };

/**
 * Gives every request an id (a trusted caller's X-Request-Id, or a fresh one), logs one line per
 * request and hands the answered request to `observe` (the metrics), synchronously, in the same
 * `finally`: metrics add no middleware and no await to a request.
 */
export function requestContext(log: Logger, observe?: (request: AnsweredRequest, seconds: number) => void): Middleware {
  return async (ctx, next) => {
    const requestId = requestIdFrom(ctx.get('x-request-id'));
    ctx.state.requestId = requestId;
    // Built when first used: most requests log nothing beyond the request line, which is off below
    // `info`, and a pino child costs a few microseconds, a tenth of a cheap /api request.
    let child: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', {
      get: () => {
        child ??= log.child({ requestId });
        return child;
      },
      enumerable: true,
      configurable: true,
    });
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      // Services stamp the audit rows and events they record with this id (see shared/request-scope.ts).
      await runInRequestScope(requestId, next);
    } finally {
      const elapsed = performance.now() - started;
      // The route pattern where there is one (paths can carry invitation tokens), else the path;
      // never the query string, which carries user codes and login hints.
      const route = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      const status = ctx.res.statusCode;
      if (log.isLevelEnabled('info')) {
        ctx.state.log.info(
          { method: ctx.method, path: typeof route === 'string' ? route : ctx.path, status, ms: Math.round(elapsed) },
          'request',
        );
      }
      observe?.({ method: ctx.method, path: ctx.path, status, matchedRoute: route }, elapsed / 1000);
    }
  };
}
