import type { Context, Middleware } from 'koa';

// Pages load nothing but our own stylesheet and run no script; form-action is left open because a
// sign-in form's redirect chain ends at the relying party's redirect_uri.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const EVERY_RESPONSE = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' };
const HTML_PAGE = { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Frame-Options': 'DENY', 'Cache-Control': 'no-store' };

/**
 * For the pages oidc-provider draws with our templates (device, logout, errors): it writes its
 * responses itself, before `securityHeaders` gets control back, so they must set these themselves.
 */
export function setPageHeaders(ctx: Pick<Context, 'set'>) {
  ctx.set({ ...EVERY_RESPONSE, ...HTML_PAGE });
}

export const securityHeaders: Middleware = async (ctx, next) => {
  await next();
  ctx.set(EVERY_RESPONSE);
  if (ctx.response.is('html')) ctx.set(HTML_PAGE);
};
