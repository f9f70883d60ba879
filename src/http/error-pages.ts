import type { Context, Middleware } from 'koa';
import { isDatabaseBusy } from '../db/database.ts';
import { text } from '../i18n/translator.ts';
import { ApiError } from '../shared/api-error.ts';
import { PageError } from './page-error.ts';
import type { Renderer } from './render.ts';

type HttpishError = Error & { status?: number; expose?: boolean };

/** Every failure on our pages ends as a readable page; internals go to the log, never to the person. */
export function errorPages(renderer: Renderer): Middleware {
  const pages = errorPageAnswers(renderer);
  return async (ctx, next) => {
    try {
      await next();
      if (pages.unanswered(ctx)) await pages.notFound(ctx);
    } catch (error) {
      await pages.failed(ctx, error);
    }
  };
}

/**
 * The two answers of `errorPages`, for the request frame (request-frame.ts), which gives them inside
 * its own try rather than as one more async layer of every request: `notFound` for a request nothing
 * answered (`unanswered`), `failed` for an error thrown downstream.
 */
export function errorPageAnswers(renderer: Renderer) {
  return {
    unanswered(ctx: Context): boolean {
      return ctx.respond !== false && ctx.status === 404 && ctx.body === undefined;
    },
    notFound(ctx: Context): Promise<void> {
      return renderer.render(
        ctx,
        'error',
        {
          title: text('errors.notFound.title'),
          message: text('errors.notFound.message'),
          action: { href: '/', label: text('errors.goHome') },
        },
        404,
      );
    },
    async failed(ctx: Context, error: unknown): Promise<void> {
      const err = error as HttpishError;
      if (err instanceof PageError) {
        await renderer.render(ctx, 'error', { title: err.title, message: err.says, action: err.action }, err.status);
        return;
      }
      // A client error meant for a script (its message is safe to show by definition) that reached a page:
      // in the reader's words when the domain gave them (`says`), else the developers' English, as in
      // the API's error_description.
      const clientError = err instanceof ApiError || err.expose;
      if (err.status && err.status >= 400 && err.status < 500 && clientError) {
        const message = err instanceof ApiError ? (err.says ?? err.message) : err.message;
        await renderer.render(ctx, 'error', { title: text('errors.badRequest.title'), message }, err.status);
        return;
      }
      if (isDatabaseBusy(err)) {
        ctx.state.log?.warn({ err }, 'database busy: answered 503');
        ctx.set('Retry-After', '1');
        await renderer.render(
          ctx,
          'error',
          { title: text('errors.busy.title'), message: text('errors.busy.message') },
          503,
        );
        return;
      }
      ctx.state.log?.error({ err }, 'unhandled error');
      await renderer.render(
        ctx,
        'error',
        { title: text('errors.unexpected.title'), message: text('errors.unexpected.message') },
        500,
      );
    },
  };
}
