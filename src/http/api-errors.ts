import type { Middleware } from 'koa';
import { ApiError } from '../shared/api-error.ts';

/** One JSON error shape for all of /api: `{ error, error_description }`. Internals are logged, never sent. */
export const apiErrors: Middleware = async (ctx, next) => {
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      throw new ApiError(404, 'not_found', `No API route ${ctx.method} ${ctx.path}.`);
    }
  } catch (error) {
    const known = error instanceof ApiError ? error : clientError(error);
    if (!known) ctx.state.log?.error({ err: error }, 'unhandled API error');
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
