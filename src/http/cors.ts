import type { Context, Middleware } from 'koa';

/** How long a browser may reuse a preflight's answer (RFC 9110 has none; Fetch's Access-Control-Max-Age). */
export const PREFLIGHT_MAX_AGE_SECONDS = 600;

// What /api reads from a request beyond the CORS-safelisted headers, and what a page may read of its answer.
const API_REQUEST_HEADERS = 'Authorization, Content-Type, DPoP, Idempotency-Key';
const API_EXPOSED_HEADERS = 'WWW-Authenticate, Retry-After, Idempotent-Replayed, X-Request-Id';
const API_METHODS = 'GET, POST, PUT, PATCH, DELETE';

/** A CORS preflight (Fetch standard 4.8): OPTIONS naming the method the page wants to use. */
export function isPreflight(ctx: Context): boolean {
  return ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method') !== '';
}

/**
 * CORS for /api. A page at an allowed origin (`allows`) gets its preflight answered and may read the
 * answers; any other origin gets no CORS header at all, so the browser keeps the answer from it.
 * Tokens travel in the Authorization header, never in cookies, so credentials are not allowed.
 * Every answer varies by Origin, so a cache never hands one origin's answer to another.
 */
export function apiCors(allows: (origin: string) => Promise<boolean>): Middleware {
  const answer = async (ctx: Context, next: () => Promise<unknown>, origin: string) => {
    const allowed = await allows(origin);
    if (isPreflight(ctx)) {
      ctx.status = 204;
      if (!allowed) return;
      ctx.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Methods': API_METHODS,
        'Access-Control-Allow-Headers': API_REQUEST_HEADERS,
        'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
      });
      return;
    }
    if (allowed) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Expose-Headers', API_EXPOSED_HEADERS);
    }
    return next();
  };
  // Not an async function: a request without Origin (a program's, not a page's) goes on without one
  // more promise of its own.
  return (ctx, next) => {
    const path = ctx.path;
    if (path !== '/api' && !path.startsWith('/api/')) return next();
    // Nothing has set Vary on an /api answer before this point; vary() parses and merges otherwise.
    if (ctx.res.hasHeader('Vary')) ctx.vary('Origin');
    else ctx.res.setHeader('Vary', 'Origin');
    const origin = ctx.get('Origin');
    if (!origin) return next();
    return answer(ctx, next, origin);
  };
}
