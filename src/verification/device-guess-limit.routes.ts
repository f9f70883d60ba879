import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';
import { clientIp } from '../http/request-origin.ts';
import type { Renderer } from '../http/render.ts';
import { durationText } from '../i18n/duration.ts';
import { text } from '../i18n/translator.ts';
import type { AbuseControls } from './abuse-controls.ts';

// Submissions whose user code matched nothing, as oidc-provider reported them (interaction/provider-pages.ts).
// Keyed by the Node request, which our Koa context and oidc-provider's share.
const wrongGuesses = new WeakSet<IncomingMessage>();

/** Called where oidc-provider reports a user code that matches no device code: that guess stays counted. */
export function reportWrongDeviceGuess(req: IncomingMessage) {
  wrongGuesses.add(req);
}

/**
 * Whether oidc-provider's router sends `path` to `route` (an ASCII path of its own): it ignores
 * ASCII case and one trailing slash, and never folds other characters to ASCII; `POST /DEVICE/`
 * looks a user code up just as `POST /device` does, so both must be counted.
 */
function routedTo(path: string, route: string) {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return /^[\x20-\x7e]*$/.test(trimmed) && trimmed.toUpperCase() === route.toUpperCase();
}

/**
 * RFC 8628 5.1: user codes are short enough to type, so they can be guessed; the verification page
 * must limit guesses. Every submission reserves a guess from the IP's budget before oidc-provider
 * looks its code up, so a parallel burst cannot slip many lookups past one check; the reservation
 * is given back unless the code turned out wrong, so a person confirming a right code is never slowed.
 */
export function deviceGuessLimit(deps: {
  abuse: Pick<AbuseControls, 'reserveDeviceGuess' | 'releaseDeviceGuess'>;
  renderer: Renderer;
  /** Where oidc-provider takes submitted user codes (its `code_verification` route). */
  verificationPath: () => string;
}): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || !routedTo(ctx.path, deps.verificationPath())) return next();
    const ip = clientIp(ctx);
    const verdict = await deps.abuse.reserveDeviceGuess(ip);
    if (verdict.status === 'allowed') {
      try {
        await next();
      } finally {
        if (!wrongGuesses.has(ctx.req)) await deps.abuse.releaseDeviceGuess(ip);
      }
      return;
    }
    ctx.set('Retry-After', String(verdict.retryAfter));
    await deps.renderer.render(
      ctx,
      'error',
      {
        title: text('verification.device.tooManyTitle'),
        message: text('verification.device.tooMany', { wait: durationText(verdict.retryAfter) }),
        action: { href: deps.verificationPath(), label: text('verification.device.back') },
      },
      429,
    );
  };
}
