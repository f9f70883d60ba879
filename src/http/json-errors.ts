import type { Middleware } from 'koa';
import { ApiError } from '../shared/api-error.ts';
import { apiErrors } from './api-errors.ts';
import { PageError } from './page-error.ts';

const CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'login_required',
  403: 'forbidden',
  404: 'not_found',
  429: 'too_many_requests',
};

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
      if (error instanceof PageError)
        throw new ApiError(error.status, CODES[error.status] ?? 'invalid_request', error.message);
      throw error;
    }
  });
