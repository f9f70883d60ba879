import Router from '@koa/router';
import type { DevOutbox } from './dev-outbox.ts';

/** Only mounted outside production (see app.ts). */
export function outboxRoutes(outbox: DevOutbox) {
  const router = new Router();
  router.get('/dev/outbox', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { messages: await outbox.latest() };
  });
  return router.routes();
}
