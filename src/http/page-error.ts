/** An error a person should read: rendered as a page with this status and message. */
export class PageError extends Error {
  override name = 'PageError';

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
