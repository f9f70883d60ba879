import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { runInRequestScope } from '../shared/request-scope.ts';

const INCOMING_ID = /^[\w.-]{8,128}$/;

/** Gives every request an id (a trusted caller's X-Request-Id, or a fresh one) and logs one line per request. */
export function requestContext(log: Logger): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = INCOMING_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = log.child({ requestId });
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      // Services stamp the events they record with this id (see shared/request-scope.ts).
      await runInRequestScope(requestId, next);
    } finally {
      // The route pattern where there is one (paths can carry invitation tokens), else the path;
      // never the query string, which carries user codes and login hints.
      const route = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      ctx.state.log.info(
        {
          method: ctx.method,
          path: typeof route === 'string' ? route : ctx.path,
          status: ctx.res.statusCode,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
    }
  };
}
