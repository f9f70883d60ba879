import type { Context, Middleware, Next } from 'koa';
import type { Logger } from 'pino';
import { requestIdFrom, runInRequestScope } from '../shared/request-scope.ts';
import { errorPageAnswers } from './error-pages.ts';
import type { Renderer } from './render.ts';
import { recordClientAddress } from './request-origin.ts';
import { securityHeaders } from './security-headers.ts';

/** A request once answered, for the metrics: its route pattern if a router matched one, never more of the path. */
export type AnsweredRequest = { method: string; path: string; status: number; matchedRoute: unknown };

/**
 * Every request's `ctx.state` to begin with. `log` is the request's pino child, built when first used:
 * most requests log nothing beyond the request line, which is off below `info`, and a child costs a
 * few microseconds, a tenth of a cheap /api request. A class, so that the getter lives on the
 * prototype: defining it on each request's own object turned every state into a slow dictionary.
 */
class RequestState {
  readonly requestId: string;
  readonly #base: Logger;
  #log: Logger | undefined;

  constructor(requestId: string, base: Logger) {
    this.requestId = requestId;
    this.#base = base;
  }

  get log(): Logger {
    this.#log ??= this.#base.child({ requestId: this.requestId });
    return this.#log;
  }
}

/**
 * The outermost layer of every request, one middleware rather than four (each Koa layer is a closure,
 * a promise and a dispatch more on every request, a measurable share of a cheap /api answer):
 *
 * 1. the client address, derived once (request-origin.ts);
 * 2. the request's id (a trusted caller's X-Request-Id, or a fresh one), its state and log, and the
 *    scope that carries the id to the audit rows and events services record (shared/request-scope.ts);
 * 3. the security headers, set before anything downstream can answer (security-headers.ts);
 * 4. error pages: every failure left unanswered ends as a readable page (error-pages.ts);
 *
 * and, once answered, one log line and the request handed to `observe` (the metrics), synchronously,
 * in the same `finally`: metrics add no middleware and no await to a request.
 */
export function requestFrame(deps: {
  log: Logger;
  trustedProxyHops: number;
  hsts: boolean;
  renderer: Renderer;
  observe?: (request: AnsweredRequest, seconds: number) => void;
}): Middleware {
  const { log, observe, trustedProxyHops } = deps;
  const headers = securityHeaders({ hsts: deps.hsts });
  const pages = errorPageAnswers(deps.renderer);

  // The request's one async function, run inside its scope: the error pages are answered in its own
  // try rather than by a middleware of their own (one promise and await fewer on every request).
  const framed = async (ctx: Context, next: Next) => {
    const started = performance.now();
    try {
      try {
        await next();
        if (pages.unanswered(ctx)) await pages.notFound(ctx);
      } catch (error) {
        await pages.failed(ctx, error);
      }
      headers.finish(ctx);
    } catch (error) {
      // Only when an error page itself failed: Koa answers, and must keep the headers.
      headers.keepOnError(error);
      throw error;
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

  return (ctx, next) => {
    recordClientAddress(ctx, trustedProxyHops);
    const requestId = requestIdFrom(ctx.get('x-request-id'));
    ctx.state = new RequestState(requestId, log);
    ctx.set('X-Request-Id', requestId);
    headers.start(ctx);
    return runInRequestScope(requestId, () => framed(ctx, next));
  };
}
