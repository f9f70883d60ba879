import Router from '@koa/router';
import { text } from '../i18n/translator.ts';
import type { PageSession } from './page-session.ts';
import type { Renderer } from './render.ts';

/**
 * `/`: what FairyID is and the ways on from here (sign in or the account, the API reference). A
 * sign-in cancelled on our own pages ends here too (page-session.ts), with a word saying so.
 */
const SIGN_IN_OUTCOMES = new Map([
  ['cancelled', text('notices.signInCancelled')],
  ['failed', text('notices.signInFailed')],
]);

export function homeRoutes(deps: { renderer: Renderer; session: Pick<PageSession, 'signedIn'> }) {
  const router = new Router();
  router.get('/', async (ctx) => {
    const signedIn = (await deps.session.signedIn(ctx)) !== undefined;
    await deps.renderer.render(ctx, 'home', { signedIn, notice: SIGN_IN_OUTCOMES.get(String(ctx.query['sign-in'])) });
  });
  return router.routes();
}
