import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';

// Pages load nothing but our own stylesheet and scripts, and run no inline script; form-action is
// left open because a sign-in form's redirect chain ends at the relying party's redirect_uri.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  // Our own files only (the passkey ceremonies, views/assets/passkeys.js), which post JSON back to us.
  "script-src 'self'",
  "connect-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

// The account overview shows the picture the person chose for their profile (an https URL, see
// accounts/profile.ts), so that one page may load images from any https origin. Every other page
// keeps `img-src 'self' data:`: a markup injection there cannot beacon data out through an <img>.
const POLICY_WITH_REMOTE_IMAGES = CONTENT_SECURITY_POLICY.replace(
  "img-src 'self' data:",
  "img-src 'self' data: https:",
);

// xterm.js sizes and themes its screen with <style> elements it creates at run time, whose content
// changes with the screen, so no hash can cover them. The terminal page gets a fresh nonce (CSP3
// 6.7.3.1) that its own script gives to those elements alone; nothing else may add a style, and
// scripts stay 'self' only.
const policyWithStyleNonce = (nonce: string) =>
  CONTENT_SECURITY_POLICY.replace("style-src 'self'", `style-src 'self' 'nonce-${nonce}'`);

/** For the terminal page: a nonce for the styles its script creates (see policyWithStyleNonce). */
export function allowStyleNonce(ctx: Pick<Context, 'state'>): string {
  const nonce = randomBytes(16).toString('base64');
  ctx.state.styleNonce = nonce;
  return nonce;
}

/** For a page that shows a picture from elsewhere (see POLICY_WITH_REMOTE_IMAGES). */
export function allowRemoteImages(ctx: Pick<Context, 'state'>) {
  ctx.state.remoteImages = true;
}

/**
 * For the sign-in and consent pages of an app with a registered logo (interaction/app-identity.ts):
 * that one origin joins img-src on that page. `origin` is a URL's serialised origin (scheme, host,
 * port), which cannot carry a space, quote or semicolon into the policy.
 */
export function allowImagesFrom(ctx: Pick<Context, 'state'>, origin: string) {
  if (!/^https?:\/\/[^\s;,'"]+$/.test(origin)) return;
  ctx.state.imageOrigin = origin;
}

const EVERY_RESPONSE = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' };
// RFC 6797: browsers keep to https for a year after seeing this over https. Not includeSubDomains:
// the issuer's parent domain may serve other hosts that are not ours to decide for.
const STRICT_TRANSPORT_SECURITY = { 'Strict-Transport-Security': 'max-age=31536000' };
const HTML_PAGE = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

/**
 * For the pages oidc-provider draws with our templates (device, logout, errors): it writes its
 * responses itself, before `securityHeaders` gets control back, so they set the page policy
 * themselves. Its other responses (JSON, redirects, its own auto-submit forms, which need their
 * inline script) keep only the headers every response gets.
 */
export function setPageHeaders(ctx: Pick<Context, 'set'>) {
  ctx.set(HTML_PAGE);
}

/**
 * `ctx.response.is('html')` without type-is's parse and MIME lookup, nor the copy of every header
 * Koa's `ctx.response.get` makes (`res.getHeaders()`), on every answer: only text/html is HTML to
 * type-is too, whatever the parameters and case.
 */
function isHtml(header: ReturnType<Context['res']['getHeader']>) {
  if (typeof header !== 'string') return false;
  const end = header.indexOf(';');
  return (end === -1 ? header : header.slice(0, end)).trim().toLowerCase() === 'text/html';
}

/**
 * Headers for every response, our own and oidc-provider's, in three steps the request frame
 * (request-frame.ts) takes. `start` sets them before anything downstream runs: oidc-provider writes
 * its responses straight to the socket (provider-mount.ts), so by the time the rest of the request
 * returns they have gone out, and a header set then is silently dropped. `finish` gives a page its
 * policy once the answer is known; `keepOnError` keeps them on an error Koa answers itself. `hsts` in
 * production on an https issuer.
 */
export function securityHeaders(options: { hsts: boolean }) {
  const everyResponse = { ...EVERY_RESPONSE, ...(options.hsts ? STRICT_TRANSPORT_SECURITY : {}) };
  return {
    start(ctx: Pick<Context, 'set'>) {
      ctx.set(everyResponse);
    },
    /** Koa's own error response starts by removing every header set so far, then sets the error's. */
    keepOnError(error: unknown) {
      if (error instanceof Error) {
        const withHeaders = error as Error & { headers?: Record<string, string> };
        withHeaders.headers = { ...withHeaders.headers, ...everyResponse };
      }
    },
    finish(ctx: Pick<Context, 'set' | 'res' | 'state'>) {
      if (!isHtml(ctx.res.getHeader('Content-Type'))) return;
      ctx.set(HTML_PAGE);
      if (ctx.state.remoteImages === true) ctx.set('Content-Security-Policy', POLICY_WITH_REMOTE_IMAGES);
      if (typeof ctx.state.imageOrigin === 'string')
        ctx.set(
          'Content-Security-Policy',
          CONTENT_SECURITY_POLICY.replace("img-src 'self' data:", `img-src 'self' data: ${ctx.state.imageOrigin}`),
        );
      if (typeof ctx.state.styleNonce === 'string')
        ctx.set('Content-Security-Policy', policyWithStyleNonce(ctx.state.styleNonce));
    },
  };
}
