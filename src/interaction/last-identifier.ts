import type { Context } from 'koa';

/**
 * The address or number a person last signed in with on this browser, so the sign-in page can
 * offer "Continue as …". Signed (Koa's keys) so that only a sign-in here sets it, HttpOnly, and
 * kept for 90 days; "Use another account" clears it.
 */
const COOKIE = 'fairyid_last_identifier';
const MAX_AGE_MS = 90 * 24 * 3600 * 1000;

export function lastIdentifier(ctx: Pick<Context, 'cookies'>): string | undefined {
  const value = ctx.cookies.get(COOKIE, { signed: true });
  return value && value.length <= 254 ? value : undefined;
}

export function rememberIdentifier(ctx: Pick<Context, 'cookies' | 'secure'>, identifier: string) {
  ctx.cookies.set(COOKIE, identifier, {
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.secure,
    path: '/',
    maxAge: MAX_AGE_MS,
    overwrite: true,
  });
}

export function forgetIdentifier(ctx: Pick<Context, 'cookies' | 'secure'>) {
  ctx.cookies.set(COOKIE, null, { signed: true, path: '/', overwrite: true });
}
