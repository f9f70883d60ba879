import Router from '@koa/router';

/**
 * /health: the process answers. /ready (for load balancers): it can reach its database and Redis,
 * and the database holds the schema this build needs.
 */
export function healthRoutes(checks: {
  database(): Promise<void>;
  schema(): Promise<void>;
  keyValue(): Promise<void>;
}) {
  const router = new Router();
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/ready', async (ctx) => {
    const [database, schema, keyValue] = await Promise.allSettled([
      checks.database(),
      checks.schema(),
      checks.keyValue(),
    ]);
    const ready = [database, schema, keyValue].every((check) => check.status === 'fulfilled');
    ctx.status = ready ? 200 : 503;
    ctx.body = {
      status: ready ? 'ready' : 'unavailable',
      database: database.status === 'fulfilled',
      schema: schema.status === 'fulfilled',
      redis: keyValue.status === 'fulfilled',
    };
  });
  return router.routes();
}
