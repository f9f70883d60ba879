import type { Middleware } from 'koa';
import { clientIp } from '../http/request-origin.ts';
import type { Renderer } from '../http/render.ts';
import { describeDuration } from '../shared/duration.ts';
import type { AbuseControls } from './abuse-controls.ts';

/**
 * RFC 8628 5.1: user codes are short enough to type, so they can be guessed; the verification page
 * must limit guesses. Wrong codes are counted where oidc-provider reports them (provider-pages.ts);
 * once an IP's budget is spent, this refuses its submissions before oidc-provider looks any code up.
 */
export function deviceGuessLimit(deps: {
  abuse: Pick<AbuseControls, 'deviceGuessesLeft'>;
  renderer: Renderer;
  /** Where oidc-provider takes submitted user codes (its `code_verification` route). */
  verificationPath: () => string;
}): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== deps.verificationPath()) return next();
    const verdict = await deps.abuse.deviceGuessesLeft(clientIp(ctx));
    if (verdict.status !== 'limited') return next();
    ctx.set('Retry-After', String(verdict.retryAfter));
    await deps.renderer.render(
      ctx,
      'error',
      {
        title: 'Too many codes tried',
        message: `Too many wrong device codes were entered from your network. Check the code on your device and try again in ${describeDuration(verdict.retryAfter)}.`,
      },
      429,
    );
  };
}
