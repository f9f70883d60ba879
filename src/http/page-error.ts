import { DEFAULT_LOCALE } from '../i18n/locales.ts';
import { type Text, translator } from '../i18n/translator.ts';

/** Where a page that reports a problem leads on: a button with this label and address. */
export type PageAction = { href: string; label: Text };

/**
 * An error a person should read: rendered as a page with this status, title and message, and a
 * button onwards (the home page's "Start again" unless `action` names a better one), in the
 * reader's language. The Error's own message is the English one, for logs.
 */
export class PageError extends Error {
  override name = 'PageError';

  readonly status: number;
  readonly says: Text;
  readonly title: Text;
  readonly action?: PageAction;

  constructor(status: number, says: Text, title: Text, action?: PageAction) {
    super(translator(DEFAULT_LOCALE).t(says));
    this.status = status;
    this.says = says;
    this.title = title;
    this.action = action;
  }
}
