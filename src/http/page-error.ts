/** Where a page that reports a problem leads on: a button with this label and address. */
export type PageAction = { href: string; label: string };

/**
 * An error a person should read: rendered as a page with this status, title and message, and a
 * button onwards (the home page's "Start again" unless `action` names a better one).
 */
export class PageError extends Error {
  override name = 'PageError';

  constructor(
    readonly status: number,
    message: string,
    readonly title: string,
    readonly action?: PageAction,
  ) {
    super(message);
  }
}
