import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { text } from '../i18n/translator.ts';
import { PageError } from './page-error.ts';

const COOKIE = 'fairyid.csrf';
const FIELD = '_csrf';
const HEADER = 'x-csrf-token';

/**
 * Synchronizer token for our forms: a random value in a signed, HttpOnly, SameSite cookie, echoed
 * in each form; a POST whose field does not match the cookie is refused before any handler runs.
 * Scripts that post JSON (the passkey ceremonies) send it in an `X-CSRF-Token` header instead.
 */
export const csrfProtection: Middleware = async (ctx, next) => {
  const token = csrfTokenFor(ctx);
  ctx.state.csrf = token;
  if (ctx.method === 'POST') {
    const submitted = (ctx.request.body as Record<string, unknown> | undefined)?.[FIELD] ?? ctx.get(HEADER);
    if (typeof submitted !== 'string' || !sameToken(submitted, token)) {
      throw new PageError(403, text('errors.formExpired.message'), text('errors.formExpired.title'));
    }
  }
  await next();
};

function sameToken(a: string, b: string) {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * This browser's token, set now if it has none: for pages drawn outside our routers (oidc-provider's
 * device confirmation) whose form posts to one of ours.
 */
export function csrfTokenFor(ctx: Pick<Context, 'cookies' | 'secure'>): string {
  let token = ctx.cookies.get(COOKIE, { signed: true });
  if (!token) {
    token = randomBytes(24).toString('base64url');
    ctx.cookies.set(COOKIE, token, {
      signed: true,
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      overwrite: true,
    });
  }
  return token;
}
