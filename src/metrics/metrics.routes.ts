import { createHash, timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { MetricsRegistry } from './registry.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * GET /metrics in Prometheus text format. With a token, only `Authorization: Bearer <token>` gets
 * it; anything else is 401 with a challenge (RFC 6750 3). Compared as digests in constant time, so
 * neither the token's length nor its prefix leaks through timing.
 */
export function metricsRoutes(metrics: MetricsRegistry, token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    if (expected) {
      const match = /^Bearer ([^\s]+)$/.exec(ctx.get('authorization'));
      if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', match ? 'Bearer realm="metrics", error="invalid_token"' : 'Bearer realm="metrics"');
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { error: 'invalid_token', error_description: 'The metrics need the bearer token METRICS_TOKEN.' };
        return;
      }
    }
    ctx.set('Content-Type', metrics.contentType);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await metrics.render();
  });
  return router.routes();
}
