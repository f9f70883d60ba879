import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { csrfProtection } from '../http/csrf.ts';
import type { GrantRevocationCause } from '../events/event-catalog.ts';

/** What a user code can look like (oidc-provider's default charset and mask, with or without the dash). */
const USER_CODE = /^[A-Za-z0-9-]{1,32}$/;

/**
 * "Not you? Use another account" on the device confirmation page: signs this browser's session out
 * (as signing out from the Devices page does) and opens the device page again with the same code,
 * so that the next person signs in before the device is confirmed.
 */
export function deviceAccountRoutes(deps: {
  provider: () => Provider;
  endSession(sessionUid: string, cause: GrantRevocationCause): Promise<boolean>;
}) {
  const router = new Router();
  router.post(
    '/device-account/switch',
    bodyParser({ enableTypes: ['form'], formLimit: '4kb' }),
    csrfProtection,
    async (ctx: Context) => {
      const session = await deps.provider().Session.get(ctx as never);
      if (session.accountId)
        await deps.endSession(session.uid, {
          actor: { type: 'account', id: session.accountId, client_id: null },
          reason: 'signed_out',
        });
      const typed = String((ctx.request.body as Record<string, unknown>).user_code ?? '');
      const verification = deps.provider().pathFor('code_verification');
      ctx.status = 303;
      ctx.redirect(USER_CODE.test(typed) ? `${verification}?user_code=${encodeURIComponent(typed)}` : verification);
    },
  );
  return router.routes();
}
