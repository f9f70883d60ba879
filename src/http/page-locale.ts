import type { Context } from 'koa';
import { type Locale, negotiateLocale } from '../i18n/locales.ts';

/**
 * The language of the page this request renders: what a route already decided (an interaction's
 * `ui_locales`) or else the browser's `Accept-Language`.
 */
export function pageLocale(ctx: Context): Locale {
  ctx.state.locale ??= negotiateLocale({ acceptLanguage: ctx.get('accept-language') });
  return ctx.state.locale;
}

/**
 * For the rest of this request, the app's `ui_locales` (OpenID Connect Core 3.1.2.1, as the request
 * being answered carried it) before the browser's Accept-Language.
 */
export function followUiLocales(ctx: Pick<Context, 'state' | 'get'>, uiLocales: unknown) {
  if (typeof uiLocales !== 'string') return;
  ctx.state.locale = negotiateLocale({ uiLocales, acceptLanguage: ctx.get('accept-language') });
}
