import type { Context } from 'koa';

/**
 * The cookie that carries a remembered browser's token (accounts/remembered-browser.service.ts).
 * HttpOnly, SameSite=Lax, Secure on https; unsigned, because the token is itself a random secret
 * checked against a stored hash, and oidc-provider's Koa app and ours read it alike.
 */
export const REMEMBERED_BROWSER_COOKIE = 'fairyid_remembered';

type Cookies = Pick<Context, 'cookies'>;

export function rememberedBrowserToken(ctx: Cookies): string | undefined {
  return ctx.cookies.get(REMEMBERED_BROWSER_COOKIE, { signed: false }) || undefined;
}

export function setRememberedBrowserToken(
  ctx: Cookies & Pick<Context, 'secure'>,
  token: string,
  maxAgeSeconds: number,
) {
  ctx.cookies.set(REMEMBERED_BROWSER_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.secure,
    signed: false,
    path: '/',
    maxAge: maxAgeSeconds * 1000,
    overwrite: true,
  });
}

/** Whether the browser that sent `ctx` is remembered for `accountId`: the MFA policy's one question. */
export type SecondStepRemembered = (ctx: Cookies, accountId: string) => Promise<boolean>;

export function secondStepRemembered(browsers: {
  recognizes(token: string | undefined, accountId: string): Promise<boolean>;
}): SecondStepRemembered {
  return (ctx, accountId) => browsers.recognizes(rememberedBrowserToken(ctx), accountId);
}
