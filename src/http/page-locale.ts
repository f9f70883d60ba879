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
