import type { Context } from 'koa';
import type { RequestOrigin } from '../shared/request-origin.ts';

/** The client address (X-Forwarded-For only with TRUST_PROXY) and browser of a request. */
export function requestOrigin(ctx: Pick<Context, 'ip' | 'get'>): RequestOrigin {
  return { ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null };
}
