import type { Middleware } from 'koa';
import { DEFAULT_LOCALE } from '../i18n/locales.ts';
import { type Text, translator } from '../i18n/translator.ts';
import { ApiError } from '../shared/api-error.ts';
import { apiErrors } from './api-errors.ts';
import { PageError } from './page-error.ts';
import { pageLocale } from './page-locale.ts';

const CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'login_required',
  403: 'forbidden',
  404: 'not_found',
  429: 'too_many_requests',
};

/**
 * A refusal a page's script shows to the person (a passkey that did not check out): the /api error
 * shape with its own code, and a description in the page's language.
 */
export class ScriptError extends Error {
  override name = 'ScriptError';

  readonly status: number;
  readonly code: string;
  readonly says: Text;

  constructor(status: number, code: string, says: Text) {
    super(translator(DEFAULT_LOCALE).t(says));
    this.status = status;
    this.code = code;
    this.says = says;
  }
}

/**
 * For JSON endpoints that pages' scripts call (the passkey ceremonies): the /api error shape,
 * `{ error, error_description }`, also for the refusals shared with the pages (an expired
 * interaction, a missing CSRF token), which would otherwise render as HTML.
 */
export const jsonErrors: Middleware = (ctx, next) =>
  apiErrors(ctx, async () => {
    try {
      await next();
    } catch (error) {
      // The pages' scripts show this description to the person, so it is in the page's language.
      if (error instanceof ScriptError)
        throw new ApiError(error.status, error.code, translator(pageLocale(ctx)).t(error.says));
      if (error instanceof PageError)
        throw new ApiError(
          error.status,
          CODES[error.status] ?? 'invalid_request',
          translator(pageLocale(ctx)).t(error.says),
        );
      throw error;
    }
  });
