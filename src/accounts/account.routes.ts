import Router from '@koa/router';
import type { Middleware } from 'koa';
import { ApiError } from '../shared/api-error.ts';
import type { AccountService } from './account.service.ts';

type Caller = { accountId: string | undefined };

/** `/api/me`: the signed-in person behind the token. */
export function accountRoutes(deps: { accounts: AccountService; requireScopes: (...scopes: string[]) => Middleware }) {
  const router = new Router();
  router.get('/api/me', deps.requireScopes('account:read'), async (ctx) => {
    const { accountId } = ctx.state.caller as Caller;
    if (!accountId) throw new ApiError(403, 'person_required', 'This route needs a token issued to a person, not to a client.');
    const account = await deps.accounts.findById(accountId);
    if (!account) throw new ApiError(404, 'account_not_found', 'The account behind this token no longer exists.');
    ctx.body = {
      id: account.id,
      email: account.email,
      email_verified: account.email_verified,
      phone_number: account.phone_number,
      phone_number_verified: account.phone_number_verified,
      name: account.name,
      fairyname: account.fairyname,
      created_at: account.created_at.toISOString(),
      updated_at: account.updated_at.toISOString(),
    };
  });
  return router.routes();
}
