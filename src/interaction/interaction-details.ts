import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults } from 'oidc-provider';
import { PAGES_CLIENT_ID } from '../http/page-session.ts';
import { type PageAction, PageError } from '../http/page-error.ts';

export const EXPIRED_INTERACTION =
  'This sign-in request has expired or was already completed. Go back to the app and start signing in again.';
const OTHER_BROWSER =
  'This sign-in was started in another browser or app, and it can only be finished there. Go back to the browser where you started, or start again here.';

/** The page for a sign-in that no longer runs: what happened, and a way to start again. */
export function interactionEnded(action?: PageAction): PageError {
  return new PageError(400, EXPIRED_INTERACTION, 'This sign-in has ended', action);
}

/**
 * The interaction named in the path, which must be the one this browser's cookie holds. Without that
 * cookie, a sign-in that is still running was started in another browser (a link copied or opened
 * from an email app, say): the page says so instead of calling it expired.
 */
export async function loadInteraction(provider: Provider, ctx: Context) {
  try {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction mismatch');
    return interaction;
  } catch (error) {
    if (!(error instanceof errors.SessionNotFound)) throw error;
    const named = await provider.Interaction.find(String(ctx.params.uid));
    const action = named ? await returnToApp(provider, named.params) : undefined;
    if (named && !ctx.cookies.get(provider.cookieName('interaction'), { signed: false })) {
      throw new PageError(400, OTHER_BROWSER, 'Finish signing in where you started', action);
    }
    throw interactionEnded(action);
  }
}

/**
 * "Return to ‹app›": the app's own address (client_uri) or else the origin of the redirect URI the
 * request named, which the provider checked against the app's registration when the sign-in began.
 * Our own pages' sign-in starts again at the account page.
 */
async function returnToApp(provider: Provider, params: Record<string, unknown>): Promise<PageAction | undefined> {
  if (params.client_id === PAGES_CLIENT_ID) return { href: '/account', label: 'Start again' };
  const client = typeof params.client_id === 'string' ? await provider.Client.find(params.client_id) : undefined;
  if (!client) return undefined;
  const address = webOrigin(client.clientUri) ?? webOrigin(params.redirect_uri);
  return address ? { href: address, label: `Return to ${client.clientName ?? 'the app'}` } : undefined;
}

function webOrigin(value: unknown): string | undefined {
  if (typeof value !== 'string' || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : undefined;
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
