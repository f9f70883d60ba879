import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { AccountDeletionService, DeletionRefusal } from '../account-lifecycle/account-deletion.service.ts';
import type { AccountExportService } from '../account-lifecycle/account-export.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { csrfProtection } from '../http/csrf.ts';
import type { Renderer } from '../http/render.ts';
import { requestOrigin } from '../http/request-origin.ts';
import type { PageSession } from '../http/page-session.ts';
import type { Clock } from '../shared/clock.ts';

const PAGE = '/account/data';
/** What the person types to confirm; a phrase rather than a checkbox, so it is never one careless click. */
export const DELETE_CONFIRMATION = 'delete my account';

type Deps = {
  exports: AccountExportService;
  deletion: AccountDeletionService;
  audit: AuditService;
  session: PageSession;
  renderer: Renderer;
  clock: Clock;
};

function describeRefusal(refusal: DeletionRefusal): string {
  switch (refusal.reason) {
    case 'last_owner':
      return `You are the only owner of ${refusal.organizations.join(', ')}. Make someone else an owner, or delete the organization, before you delete your account.`;
    case 'environments':
      return `You have ${refusal.count === 1 ? 'an environment' : `${refusal.count} environments`}. Delete ${refusal.count === 1 ? 'it' : 'them'} on the Environments page before you delete your account.`;
    case 'not_found':
      return 'This account no longer exists.';
  }
}

/** `/account/data`: download everything FairyID holds about you, or delete your account. */
export function dataPageRoutes(deps: Deps) {
  const router = new Router({ prefix: PAGE });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), csrfProtection);

  const renderPage = async (ctx: Context, accountId: string, data: { error?: string } = {}, status = 200) => {
    const refusal = await deps.deletion.check(accountId);
    await deps.renderer.render(
      ctx,
      'account-data',
      {
        blocked: refusal && describeRefusal(refusal),
        confirmation: DELETE_CONFIRMATION,
        ...data,
      },
      status,
    );
  };

  router.get('/', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (current) await renderPage(ctx, current.accountId);
  });

  router.get('/export', async (ctx) => {
    const current = await deps.session.require(ctx, `${PAGE}/export`);
    if (!current) return;
    const now = new Date(deps.clock.now());
    const document = await deps.exports.export(current.accountId, now);
    if (!document) {
      ctx.redirect(await deps.session.signInUrl(PAGE));
      return;
    }
    await deps.audit.record({
      event: 'account_exported',
      outcome: 'success',
      origin: requestOrigin(ctx),
      accountId: current.accountId,
    });
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Disposition', `attachment; filename="fairyid-${now.toISOString().slice(0, 10)}.json"`);
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(document, null, 2);
  });

  router.post('/delete', async (ctx) => {
    // Deleting is the most a session can do: it needs a sign-in within the last 5 minutes.
    const current = await deps.session.requireRecent(ctx, PAGE);
    if (!current) return;
    const typed = String((ctx.request.body as Record<string, unknown>).confirm ?? '')
      .trim()
      .toLowerCase();
    if (typed !== DELETE_CONFIRMATION) {
      await renderPage(ctx, current.accountId, { error: `Type “${DELETE_CONFIRMATION}” to confirm.` }, 400);
      return;
    }
    const outcome = await deps.deletion.delete(current.accountId);
    if (outcome.status === 'refused') {
      await renderPage(ctx, current.accountId, { error: describeRefusal(outcome.refusal) }, 409);
      return;
    }
    await deps.renderer.render(ctx, 'account-deleted', { notified: outcome.notified });
  });

  return router.routes();
}
