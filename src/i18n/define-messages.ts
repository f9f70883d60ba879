import type { Locale } from './locales.ts';

/**
 * One message: plain text with `{name}` placeholders, or plural forms chosen by the `count`
 * parameter through `Intl.PluralRules` (`one`, `other`, and `zero`/`two`/`few`/`many` where a
 * language has them).
 */
export type Message =
  | string
  | ({ readonly one?: string; readonly other: string } & Partial<Record<Intl.LDMLPluralRule, string>>);

/**
 * An area's messages in every shipped language. English names the keys; the type makes every other
 * language supply exactly the same keys, so a missing translation fails the type check (and
 * test/i18n/catalogs.test.ts, for catalogs built at run time).
 */
export function defineMessages<const English extends Record<string, Message>>(
  catalogs: { en: English } & Record<Exclude<Locale, 'en'>, Record<keyof English, Message>>,
): { readonly [L in Locale]: Record<keyof English, Message> } {
  return catalogs;
}
