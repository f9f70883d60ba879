import test from 'ava';
import { negotiateLocale } from '../../src/i18n/locales.ts';
import { translator } from '../../src/i18n/translator.ts';

test('ui_locales wins over Accept-Language, in its own order of preference', (t) => {
  t.is(negotiateLocale({ uiLocales: 'de fr-CA en', acceptLanguage: 'en' }), 'fr');
  t.is(negotiateLocale({ uiLocales: 'de', acceptLanguage: 'fr;q=0.5, de' }), 'fr');
});

test('Accept-Language is read by quality, not by position', (t) => {
  t.is(negotiateLocale({ acceptLanguage: 'en;q=0.4, fr-FR;q=0.9, *;q=0.1' }), 'fr');
  t.is(negotiateLocale({ acceptLanguage: 'fr;q=0, en' }), 'en');
  t.is(negotiateLocale({ acceptLanguage: 'de-DE, ja' }), 'en');
});

test('malformed language headers fall back to English', (t) => {
  t.is(negotiateLocale({ acceptLanguage: ';;q=abc,,\u0000' }), 'en');
  t.is(negotiateLocale({ uiLocales: '   ' }), 'en');
  t.is(negotiateLocale({}), 'en');
});

test('parameters are filled in and numbers formatted for the reader', (t) => {
  t.is(translator('en').t('common.titleSuffix', { title: 'Sign in' }), 'Sign in · FairyID');
  t.is(translator('fr').formatNumber(1234.5), '1\u202f234,5');
  t.is(translator('en').formatNumber(1234.5), '1,234.5');
});

test('a key that is in no catalog is an error, not a blank on the page', (t) => {
  t.throws(() => translator('en').t('nope.missing' as never), { message: /no message "nope.missing"/ });
});
