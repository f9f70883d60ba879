import { catalogs, type MessageKey } from './catalog.ts';
import type { Message } from './define-messages.ts';
import { DEFAULT_LOCALE, type Locale } from './locales.ts';

/** A parameter is words that are not language, a number or date (formatted), or a message of its own. */
export type Params = Readonly<Record<string, string | number | Date | Text>>;

/**
 * Words chosen by code but read on a page or in a message: a key and its parameters, translated
 * only when the reader's language is known (a route decides what to say, the renderer says it).
 */
export type Text = { readonly key: MessageKey; readonly params?: Params };

export function text(key: MessageKey, params?: Params): Text {
  return params ? { key, params } : { key };
}

/** A Text is exactly a key and maybe its parameters: data that merely has a `key` field is not one. */
export function isText(value: unknown): value is Text {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Text).key === 'string' &&
    Object.keys(value).every((field) => field === 'key' || field === 'params')
  );
}

export type Translator = {
  readonly locale: Locale;
  /** The message for a key (or a Text), its `{name}` placeholders filled and formatted for the locale. */
  t(message: MessageKey | Text, params?: Params): string;
  formatNumber(value: number): string;
  /** Date and time as people of this locale write them, in the server's time zone unless given. */
  formatDateTime(value: Date | number, options?: Intl.DateTimeFormatOptions): string;
};

const translators = new Map<Locale, Translator>();

export function translator(locale: Locale): Translator {
  let made = translators.get(locale);
  if (!made) {
    made = makeTranslator(locale);
    translators.set(locale, made);
  }
  return made;
}

function makeTranslator(locale: Locale): Translator {
  const numbers = new Intl.NumberFormat(locale);
  const plurals = new Intl.PluralRules(locale);
  const dateTimes = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
  const format = (value: Params[string]): string =>
    typeof value === 'number'
      ? numbers.format(value)
      : value instanceof Date
        ? dateTimes.format(value)
        : isText(value)
          ? t(value)
          : value;

  const pick = (message: Message, params: Params | undefined): string => {
    if (typeof message === 'string') return message;
    const count = params?.count;
    const form = typeof count === 'number' ? plurals.select(count) : 'other';
    return message[form] ?? message.other;
  };

  const t: Translator['t'] = (message, extra) => {
    const { key, params } = typeof message === 'string' ? { key: message, params: extra } : message;
    const merged = extra && typeof message !== 'string' ? { ...params, ...extra } : params;
    // Keys are typed, but templates are not: a key that is in no catalog is a bug a test must see.
    const found = catalogs[locale][key] ?? catalogs[DEFAULT_LOCALE][key];
    if (found === undefined) throw new Error(`no message "${key}" in the catalogs`);
    const template = pick(found, merged);
    if (!merged) return template;
    return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
      const value = merged[name];
      return value === undefined ? whole : format(value);
    });
  };

  return {
    locale,
    t,
    formatNumber: (value) => numbers.format(value),
    formatDateTime: (value, options) =>
      options ? new Intl.DateTimeFormat(locale, options).format(value) : dateTimes.format(value),
  };
}
