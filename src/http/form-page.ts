import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { Locale } from '../i18n/locales.ts';
import type { Text } from '../i18n/translator.ts';
import { csrfProtection } from './csrf.ts';
import { pageLocale } from './page-locale.ts';
import type { SignedIn } from './page-session.ts';
import type { Renderer } from './render.ts';

/** What a page shows above its content after an action: what was done, or what went wrong. */
export type PageMessages = { notice?: Text | undefined; error?: Text };

/**
 * A signed-in person's page whose forms post back under its own path: the router takes small form
 * bodies only and checks CSRF on every post, and `render` draws `view` with the page's data for
 * that person in the reader's language, a notice or an error, and the status (a refused action re-renders with its error).
 */
export function formPage<Data extends Record<string, unknown>>(
  path: string,
  deps: { renderer: Renderer; view: string; data(current: SignedIn, locale: Locale): Promise<Data> },
) {
  const router = new Router({ prefix: path });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), csrfProtection);
  const render = async (ctx: Context, current: SignedIn, messages: PageMessages, status = 200) =>
    deps.renderer.render(ctx, deps.view, { ...(await deps.data(current, pageLocale(ctx))), ...messages }, status);
  return { router, render };
}
