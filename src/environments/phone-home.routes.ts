import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Reconciler } from './reconciler.ts';

/**
 * cloud-init's phone_home module: the machine posts form fields (`instance_id`, `hostname`, `fqdn`,
 * `pub_key_ed25519`, ...) to its own single-use URL once everything before it, runcmd included, has
 * run. The token in the path is the only credential; an unknown or used one is a plain 404.
 */
export function phoneHomeRoutes(reconciler: Reconciler) {
  const router = new Router({ prefix: '/environments/phone-home' });
  router.post('/:token', bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), async (ctx) => {
    const form = (ctx.request.body ?? {}) as Record<string, unknown>;
    const key = typeof form.pub_key_ed25519 === 'string' ? form.pub_key_ed25519 : undefined;
    const token = ctx.params.token ?? '';
    const accepted = /^[\w-]{20,100}$/.test(token) && (await reconciler.phoneHome(token, { pubKeyEd25519: key }));
    ctx.status = accepted ? 200 : 404;
    ctx.type = 'text/plain';
    ctx.body = accepted ? 'ready\n' : 'unknown or used phone_home URL\n';
  });
  return router.routes();
}
