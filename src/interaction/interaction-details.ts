import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults } from 'oidc-provider';
import { PageError } from '../http/page-error.ts';

export const EXPIRED_INTERACTION =
  'This sign-in request has expired or was already completed. Go back to the app and start signing in again.';

/** The interaction named in the path, which must be the one this browser's cookie holds. */
export async function loadInteraction(provider: Provider, ctx: Context) {
  try {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction mismatch');
    return interaction;
  } catch (error) {
    if (error instanceof errors.SessionNotFound) throw new PageError(400, EXPIRED_INTERACTION);
    throw error;
  }
}

export type Interaction = Awaited<ReturnType<typeof loadInteraction>>;

/**
 * Hands the result back to oidc-provider and sends the browser on. Consent keeps the login
 * submitted earlier in the same authorization request (else prompt=login would ask again); a
 * login replaces whatever came before it.
 */
export async function finishInteraction(provider: Provider, ctx: Context, result: InteractionResults) {
  const mergeWithLastSubmission = !result.login;
  const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission });
  ctx.status = 303;
  ctx.redirect(redirectTo);
}
