import Router from '@koa/router';

/** /health: the process answers. /ready: it can reach its database and Redis (for load balancers). */
export function healthRoutes(checks: { database(): Promise<void>; keyValue(): Promise<void> }) {
  const router = new Router();
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/ready', async (ctx) => {
    const [database, keyValue] = await Promise.allSettled([checks.database(), checks.keyValue()]);
    const ready = database.status === 'fulfilled' && keyValue.status === 'fulfilled';
    ctx.status = ready ? 200 : 503;
    ctx.body = {
      status: ready ? 'ready' : 'unavailable',
      database: database.status === 'fulfilled',
      redis: keyValue.status === 'fulfilled',
    };
  });
  return router.routes();
}
