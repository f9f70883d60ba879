/** The languages every page, email and text message ships in; the first is the fallback. */
export const SUPPORTED_LOCALES = ['en', 'fr'] as const;
export type Locale = (typeof SUPPORTED_LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

/** The Intl locale a date is written in: English puts the day first ("7 Dec 2026"), never ambiguous with 12/7. */
export const DATE_LOCALES: Readonly<Record<Locale, string>> = { en: 'en-GB', fr: 'fr' };

function supported(tag: string): Locale | undefined {
  const language = tag.trim().toLowerCase().split('-')[0];
  return SUPPORTED_LOCALES.find((locale) => locale === language);
}

/**
 * The language a person reads: the app's `ui_locales` (OpenID Connect Core 3.1.2.1, space-separated,
 * in order of preference) wins over the browser's `Accept-Language` (RFC 9110 12.5.4, by q-value);
 * a tag we do not ship is skipped, and English is what is left.
 */
export function negotiateLocale(sources: { uiLocales?: string; acceptLanguage?: string }): Locale {
  for (const tag of (sources.uiLocales ?? '').split(' ')) {
    const locale = tag && supported(tag);
    if (locale) return locale;
  }
  const ranked = (sources.acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...parameters] = part.split(';');
      const q = parameters.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const quality = q ? Number(q.slice(2)) : 1;
      return { tag: tag.trim(), quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter((entry) => entry.tag && entry.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index);
  for (const { tag } of ranked) {
    const locale = supported(tag);
    if (locale) return locale;
  }
  return DEFAULT_LOCALE;
}
