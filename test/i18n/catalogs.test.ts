import test from 'ava';
import { areaKeys, catalogs } from '../../src/i18n/catalog.ts';
import { SUPPORTED_LOCALES } from '../../src/i18n/locales.ts';

const placeholders = (message: unknown): string[] =>
  [...JSON.stringify(message).matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '').sort();

test('every key exists in every language, with the same placeholders and plural forms that apply', (t) => {
  const english = catalogs.en;
  for (const locale of SUPPORTED_LOCALES) {
    const catalog = catalogs[locale];
    t.deepEqual(Object.keys(catalog).sort(), Object.keys(english).sort(), `${locale} has exactly English's keys`);
    for (const [key, message] of Object.entries(catalog)) {
      const original = english[key as keyof typeof english];
      t.deepEqual(placeholders(message), placeholders(original), `${locale} ${key} keeps English's placeholders`);
      t.is(typeof message, typeof original, `${locale} ${key} is plural exactly when English is`);
      if (typeof message === 'string') t.true(message.trim().length > 0, `${locale} ${key} is not empty`);
    }
  }
});

test('no two areas define the same key', (t) => {
  const seen = new Set<string>();
  for (const keys of areaKeys) {
    for (const key of keys) {
      t.false(seen.has(key), `${key} is defined once`);
      seen.add(key);
    }
  }
});
