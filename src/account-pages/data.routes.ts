import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { AccountDeletionService, DeletionRefusal } from '../account-lifecycle/account-deletion.service.ts';
import type { AccountExportService } from '../account-lifecycle/account-export.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { csrfProtection } from '../http/csrf.ts';
import { pageLocale } from '../http/page-locale.ts';
import { type Locale, SUPPORTED_LOCALES } from '../i18n/locales.ts';
import { type Text, text, translator } from '../i18n/translator.ts';
import type { Renderer } from '../http/render.ts';
import { requestOrigin } from '../http/request-origin.ts';
import type { PageSession } from '../http/page-session.ts';
import type { Clock } from '../shared/clock.ts';

const PAGE = '/account/data';
/**
 * What the person types to confirm, in their language; a phrase rather than a checkbox, so it is
 * never one careless click. The phrase of any language we ship is accepted, whatever the page said.
 */
const DELETE_CONFIRMATION = text('notices.deleteConfirmation');
const CONFIRMATIONS = new Set(SUPPORTED_LOCALES.map((locale) => translator(locale).t(DELETE_CONFIRMATION)));

type Deps = {
  exports: AccountExportService;
  deletion: AccountDeletionService;
  audit: AuditService;
  session: PageSession;
  renderer: Renderer;
  clock: Clock;
};

function describeRefusal(refusal: DeletionRefusal, locale: Locale): Text {
  switch (refusal.reason) {
    case 'last_owner': {
      const organizations = new Intl.ListFormat(locale, { type: 'conjunction' }).format(refusal.organizations);
      return text('notices.lastOwner', { organizations });
    }
    case 'environments':
      return text('notices.liveEnvironments', { count: refusal.count });
    case 'not_found':
      return text('errors.accountNotFound.message');
  }
}

/** `/account/data`: download everything FairyID holds about you, or delete your account. */
export function dataPageRoutes(deps: Deps) {
  const router = new Router({ prefix: PAGE });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), csrfProtection);

  const renderPage = async (ctx: Context, accountId: string, data: { error?: Text } = {}, status = 200) => {
    const refusal = await deps.deletion.check(accountId);
    await deps.renderer.render(
      ctx,
      'account-data',
      {
        blocked: refusal && describeRefusal(refusal, pageLocale(ctx)),
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
    if (!CONFIRMATIONS.has(typed)) {
      const error = text('notices.typeConfirmation', { phrase: DELETE_CONFIRMATION });
      await renderPage(ctx, current.accountId, { error }, 400);
      return;
    }
    const outcome = await deps.deletion.delete(current.accountId, pageLocale(ctx));
    if (outcome.status === 'refused') {
      await renderPage(ctx, current.accountId, { error: describeRefusal(outcome.refusal, pageLocale(ctx)) }, 409);
      return;
    }
    await deps.renderer.render(ctx, 'account-deleted', { notified: outcome.notified });
  });

  return router.routes();
}
