import type { Middleware } from 'koa';
import { isDatabaseBusy } from '../db/database.ts';
import { ApiError } from '../shared/api-error.ts';

/** One JSON error shape for all of /api: `{ error, error_description }`. Internals are logged, never sent. */
export const apiErrors: Middleware = async (ctx, next) => {
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      throw new ApiError(404, 'not_found', `No API route ${ctx.method} ${ctx.path}.`);
    }
  } catch (error) {
    const known = error instanceof ApiError ? error : (clientError(error) ?? busyError(error));
    if (!known) ctx.state.log?.error({ err: error }, 'unhandled API error');
    else if (known.status === 503) ctx.state.log?.warn({ err: error }, 'database busy: answered 503');
    const { status, code, message, headers } =
      known ?? new ApiError(500, 'server_error', 'Something went wrong on our side.');
    ctx.status = status;
    ctx.set(headers);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: code, error_description: message };
  }
};

// Errors Koa and its body parser raise for malformed requests (bad JSON, too large) are the client's.
function clientError(error: unknown): ApiError | undefined {
  const err = error as { status?: number; expose?: boolean; message?: string };
  if (err.status && err.status >= 400 && err.status < 500 && err.expose) {
    return new ApiError(
      err.status,
      err.status === 413 ? 'request_too_large' : 'invalid_request',
      err.message ?? 'Bad request.',
    );
  }
  return undefined;
}

// Every database connection busy past the pool's wait: a moment's overload, not a fault. RFC 9110
// section 15.6.4: 503 with Retry-After, so clients (and their idempotency keys) try again.
function busyError(error: unknown): ApiError | undefined {
  if (!isDatabaseBusy(error)) return undefined;
  return new ApiError(503, 'temporarily_unavailable', 'FairyID is busy. Try again in a moment.', {
    'Retry-After': '1',
  });
}
