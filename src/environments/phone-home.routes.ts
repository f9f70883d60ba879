import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Reconciler } from './reconciler.ts';

/**
 * cloud-init's phone_home module: the machine posts form fields (`instance_id`, `hostname`, `fqdn`,
 * `pub_key_ed25519`, ...) to its own single-use URL once everything before it, runcmd included, has
 * run. The token in the path is the only credential; an unknown or used one is a plain 404. One
 * that comes before the machine's address is known is a 503, which cloud-init retries.
 */
export function phoneHomeRoutes(reconciler: Reconciler) {
  const router = new Router({ prefix: '/environments/phone-home' });
  router.post('/:token', bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), async (ctx) => {
    const form = (ctx.request.body ?? {}) as Record<string, unknown>;
    const key = typeof form.pub_key_ed25519 === 'string' ? form.pub_key_ed25519 : undefined;
    const token = ctx.params.token ?? '';
    const outcome = /^[\w-]{20,100}$/.test(token)
      ? await reconciler.phoneHome(token, { pubKeyEd25519: key })
      : 'unknown';
    ctx.type = 'text/plain';
    if (outcome === 'ready') {
      ctx.body = 'ready\n';
    } else if (outcome === 'not_yet') {
      ctx.status = 503;
      ctx.set('Retry-After', '3');
      ctx.body = 'the machine is not recorded yet; phone again\n';
    } else {
      ctx.status = 404;
      ctx.body = 'unknown or used phone_home URL\n';
    }
  });
  return router.routes();
}
