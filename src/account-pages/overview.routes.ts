import Router from '@koa/router';
import type { AccountService } from '../accounts/account.service.ts';
import type { LedgerService } from '../ledger/ledger.service.ts';
import type { Renderer } from '../http/render.ts';
import type { PageSession } from '../interaction/page-session.ts';

const HISTORY_ROWS = 20;

const KIND_LABELS: Record<string, string> = {
  signup_grant: 'Welcome gift',
  charge: 'Spent in an app',
  refund: 'Refund from an app',
  transfer: 'Transfer with an organization',
  purchase: 'Bought',
  purchase_reversal: 'Purchase refunded',
};

/** `/account`: the signed-in person's profile and DUST. Signing in goes through our own pages client. */
export function accountPageRoutes(deps: { accounts: AccountService; ledger: LedgerService; session: PageSession; renderer: Renderer }) {
  const router = new Router();
  router.get('/account', async (ctx) => {
    const accountId = await deps.session.accountId(ctx);
    const account = accountId ? await deps.accounts.findById(accountId) : undefined;
    if (!account) {
      ctx.redirect(await deps.session.signInUrl('/account'));
      return;
    }
    const [balance, history] = await Promise.all([
      deps.ledger.balance('person', account.id),
      deps.ledger.history('person', account.id, {}, { cursor: undefined, limit: HISTORY_ROWS }),
    ]);
    await deps.renderer.render(ctx, 'account', {
      account,
      balance,
      history: history.map((entry) => ({
        label: KIND_LABELS[entry.kind] ?? entry.kind,
        description: entry.description,
        amount: entry.amount,
        date: entry.created_at.toISOString().slice(0, 10),
      })),
    });
  });
  return router.routes();
}
