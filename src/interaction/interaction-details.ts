import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults } from 'oidc-provider';
import { PAGES_CLIENT_ID } from '../http/page-session.ts';
import { type PageAction, PageError } from '../http/page-error.ts';
import { followUiLocales } from '../http/page-locale.ts';
import { text } from '../i18n/translator.ts';

/** The page for a sign-in that no longer runs: what happened, and a way to start again. */
export function interactionEnded(action?: PageAction): PageError {
  return new PageError(400, text('errors.signInEnded.message'), text('errors.signInEnded.title'), action);
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
    // Every page of the interaction speaks the app's language: ui_locales came with its first request only.
    followUiLocales(ctx, interaction.params.ui_locales);
    return interaction;
  } catch (error) {
    if (!(error instanceof errors.SessionNotFound)) throw error;
    const named = await provider.Interaction.find(String(ctx.params.uid));
    if (named) followUiLocales(ctx, named.params.ui_locales);
    const action = named ? await returnToApp(provider, named.params) : undefined;
    if (named && !ctx.cookies.get(provider.cookieName('interaction'), { signed: false })) {
      throw new PageError(400, text('errors.otherBrowser.message'), text('errors.otherBrowser.title'), action);
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
  if (params.client_id === PAGES_CLIENT_ID) return { href: '/account', label: text('errors.startAgain') };
  const client = typeof params.client_id === 'string' ? await provider.Client.find(params.client_id) : undefined;
  if (!client) return undefined;
  const address = webOrigin(client.clientUri) ?? webOrigin(params.redirect_uri);
  if (!address) return undefined;
  const label = client.clientName ? text('errors.returnTo', { app: client.clientName }) : text('errors.returnToApp');
  return { href: address, label };
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
 *
 * The result is saved on the interaction this request loaded (loadInteraction: this browser's
 * cookie, its session checked) rather than through `provider.interactionResult`, which would read
 * the interaction and its session again: two to four Redis reads per page. The resume at
 * /auth/:uid still checks the interaction against the browser's session before acting on it.
 */
export async function finishInteraction(ctx: Context, interaction: Interaction, result: InteractionResults) {
  const returnTo = await saveInteractionResult(interaction, result);
  ctx.status = 303;
  ctx.redirect(returnTo);
}

/** `finishInteraction` for a script's request: saves the result and returns where the browser goes next. */
export async function saveInteractionResult(interaction: Interaction, result: InteractionResults): Promise<string> {
  // An interaction that expired while this request ran is not written back (its lifetime would be
  // zero or less).
  if (interaction.exp <= Math.floor(Date.now() / 1000)) throw interactionEnded();
  interaction.result = result.login || 'error' in result ? result : { ...interaction.lastSubmission, ...result };
  await interaction.persist();
  return interaction.returnTo;
}
