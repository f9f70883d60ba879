import { catalogs, type MessageKey } from '../i18n/catalog.ts';
import { type Text, text } from '../i18n/translator.ts';

/** What each requested scope lets the app do, in words from the catalogs; a scope they do not name is shown as it is. */
export function describeScopes(scopes: Iterable<string>): (Text | string)[] {
  return [...new Set(scopes)].map((scope) => {
    const key = `scopes.${scope}`;
    return Object.hasOwn(catalogs.en, key) ? text(key as MessageKey) : scope;
  });
}
