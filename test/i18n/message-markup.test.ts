import test from 'ava';
import { catalogs } from '../../src/i18n/catalog.ts';
import type { Message } from '../../src/i18n/define-messages.ts';

const forms = (message: Message): string[] => (typeof message === 'string' ? [message] : Object.values(message));
const tags = (text: string) => [...text.matchAll(/<\/?[a-z]+/g)].map((match) => match[0]);

test('a translation keeps its message’s markup, tag for tag', (t) => {
  for (const [key, english] of Object.entries(catalogs.en)) {
    const french = catalogs.fr[key as keyof typeof catalogs.fr];
    const expected = tags(forms(english)[0] ?? '').sort();
    for (const form of forms(french)) t.deepEqual(tags(form).sort(), expected, `fr ${key}`);
  }
});

test('French puts a no-break space before two-part punctuation and inside guillemets, never a plain one', (t) => {
  for (const [key, message] of Object.entries(catalogs.fr)) {
    for (const form of forms(message)) {
      // Markup and code (`?limit=`) are not prose.
      const prose = form.replace(/<code>.*?<\/code>/g, '').replace(/<[^>]*>/g, '');
      t.notRegex(prose, / [:;?!»]/, `fr ${key}: a plain space before punctuation`);
      t.notRegex(prose, /« /, `fr ${key}: a plain space after «`);
      t.notRegex(prose, /\w[;?!»]/u, `fr ${key}: no space before punctuation`);
    }
  }
});
