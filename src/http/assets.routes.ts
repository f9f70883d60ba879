import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Router from '@koa/router';

const STYLESHEET = readFileSync(new URL('../../views/assets/fairyid.css', import.meta.url));
const ETAG = `"${createHash('sha256').update(STYLESHEET).digest('base64url').slice(0, 16)}"`;

/** The one stylesheet the pages use; served by us so the pages depend on no CDN. */
export function assetRoutes() {
  const router = new Router();
  router.get('/assets/fairyid.css', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.etag = ETAG;
    ctx.type = 'text/css';
    ctx.status = 200;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.body = STYLESHEET;
  });
  return router.routes();
}
