import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { AccountService } from '../accounts/account.service.ts';
import type { BackupCodeService } from '../accounts/backup-code.service.ts';
import type { RememberedBrowsers } from '../accounts/remembered-browser.service.ts';
import { describeDevice } from './device-description.ts';
import { accountLabel } from '../accounts/account-label.ts';
import { FACTOR_NAME_MAX, factorNameProblem, factorNameSchema } from '../accounts/factor-name.ts';
import type { TotpService } from '../accounts/totp.service.ts';
import type { AuditRecord, AuditService } from '../audit/audit.service.ts';
import { csrfProtection } from '../http/csrf.ts';
import { pageLocale } from '../http/page-locale.ts';
import { type Text, text } from '../i18n/translator.ts';
import type { Renderer } from '../http/render.ts';
import { requestOrigin } from '../http/request-origin.ts';
import type { BackupCodeHandOff } from '../interaction/backup-code-hand-off.ts';
import type { PageSession, SignedIn } from '../http/page-session.ts';
import { backupCodesOnEnrollment, FRESH_BACKUP_CODES_PAGE } from './backup-codes-on-enrollment.ts';
import { CONFIRM_VIEW, type ConfirmStep, confirmed } from './confirm-step.ts';
import { APP_CODE, parseFormCode } from '../verification/code-outcomes.ts';
import { shownTime } from './relative-time.ts';

const PAGE = '/account/security';

const NOTICES: Record<string, Text> = {
  totp: text('notices.totpSet'),
  'totp-removed': text('notices.totpRemoved'),
  renamed: text('notices.nameSaved'),
  forgotten: text('notices.browserForgotten'),
  'all-forgotten': text('notices.allBrowsersForgotten'),
};

type Deps = {
  accounts: AccountService;
  totp: TotpService;
  backupCodes: BackupCodeService;
  handOff: BackupCodeHandOff;
  rememberedBrowsers: RememberedBrowsers;
  audit: AuditService;
  session: PageSession;
  renderer: Renderer;
};

/**
 * `/account/security`: the second step of signing in (authenticator app, a summary of passkeys,
 * backup codes). Changes that would let someone holding a stolen session keep a way in (a new app,
 * new backup codes) or that weaken the account ask for a fresh sign-in first.
 */
export function securityPageRoutes(deps: Deps) {
  const router = new Router({ prefix: PAGE });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), csrfProtection);

  const audit = (ctx: Context, current: SignedIn, entry: Omit<AuditRecord, 'origin' | 'accountId'>) =>
    deps.audit.record({ ...entry, origin: requestOrigin(ctx), accountId: current.accountId });

  const labelOf = async (accountId: string) => {
    const account = await deps.accounts.findById(accountId);
    return account ? accountLabel(account) : 'FairyID';
  };

  const renderPage = async (
    ctx: Context,
    current: SignedIn,
    messages: { notice?: Text | undefined; error?: Text } = {},
    status = 200,
  ) => {
    const locale = pageLocale(ctx);
    const [summary, totp, remembered] = await Promise.all([
      deps.accounts.factorSummary(current.accountId),
      deps.totp.find(current.accountId),
      deps.rememberedBrowsers.list(current.accountId),
    ]);
    await deps.renderer.render(
      ctx,
      'account-security',
      {
        summary,
        totp: totp && {
          name: totp.name,
          since: shownTime(totp.created_at, locale),
          lastUsed: totp.last_used_at && shownTime(totp.last_used_at, locale),
        },
        nameMax: FACTOR_NAME_MAX,
        remembered: remembered.map((browser) => ({
          id: browser.id,
          device: describeDevice(browser.user_agent),
          ip: browser.ip,
          since: shownTime(browser.created_at, locale),
          until: shownTime(browser.expires_at, locale),
        })),
        ...messages,
      },
      status,
    );
  };

  const goTo = (ctx: Context, location: string) => {
    ctx.status = 303;
    ctx.redirect(location);
  };

  router.get('/', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const saved = typeof ctx.query.saved === 'string' ? NOTICES[ctx.query.saved] : undefined;
    await renderPage(ctx, current, { notice: saved });
  });

  router.get('/totp', async (ctx) => {
    const current = await deps.session.requireRecent(ctx, `${PAGE}/totp`);
    if (!current) return;
    if (await deps.totp.find(current.accountId)) return goTo(ctx, PAGE);
    const enrollment = await deps.totp.beginEnrollment(current.accountId, await labelOf(current.accountId));
    await deps.renderer.render(ctx, 'account-totp', { enrollment });
  });

  router.post('/totp', async (ctx) => {
    const current = await deps.session.requireRecent(ctx, `${PAGE}/totp`);
    if (!current) return;
    const body = ctx.request.body as Record<string, unknown>;
    const pending = String(body.pending ?? '');
    const code = parseFormCode(body);
    const enrollment = await deps.totp.resumeEnrollment(current.accountId, await labelOf(current.accountId), pending);
    if (!enrollment) return renderPage(ctx, current, { error: text('notices.setupTooLong') }, 400);
    const retry = (error: Text) => deps.renderer.render(ctx, 'account-totp', { enrollment, error }, 400);
    if (!code) return retry(APP_CODE.malformed);
    const result = await deps.totp.confirmEnrollment(current.accountId, pending, code);
    if (result === 'wrong') return retry(APP_CODE.wrong);
    if (result === 'expired') return renderPage(ctx, current, { error: text('notices.setupTooLong') }, 400);
    if (result === 'exists') return renderPage(ctx, current, { error: text('notices.totpExists') }, 409);
    await audit(ctx, current, { event: 'factor_added', outcome: 'success', detail: { factor: 'totp' } });
    await deps.session.recordFactor(ctx, 'totp');
    goTo(ctx, await backupCodesOnEnrollment(deps, current, `${PAGE}?saved=totp`));
  });

  router.post('/totp/rename', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const parsed = factorNameSchema.safeParse((ctx.request.body as Record<string, unknown>).name);
    if (!parsed.success) return renderPage(ctx, current, { error: factorNameProblem }, 400);
    const name = parsed.data;
    if (!(await deps.totp.rename(current.accountId, name)))
      return renderPage(ctx, current, { error: text('notices.noTotpToRename') }, 404);
    await audit(ctx, current, { event: 'factor_renamed', outcome: 'success', detail: { factor: 'totp', name } });
    goTo(ctx, `${PAGE}?saved=renamed`);
  });

  router.post('/totp/remove', async (ctx) => {
    const signedIn = await deps.session.require(ctx, PAGE);
    if (!signedIn) return;
    // Removing the last second factor turns two-step sign-in off: that takes a fresh sign-in.
    const last = (await deps.accounts.factorSummary(signedIn.accountId)).passkeys === 0;
    const current = last ? await deps.session.requireRecent(ctx, PAGE) : signedIn;
    if (!current) return;
    if (!confirmed(ctx.request.body)) {
      const totp = await deps.totp.find(current.accountId);
      if (!totp) return renderPage(ctx, current, { error: text('notices.noTotpToRemove') }, 404);
      const step: ConfirmStep = {
        kind: 'totp',
        nav: 'security',
        name: totp.name,
        action: `${PAGE}/totp/remove`,
        back: `${PAGE}#authenticator`,
        lastFactor: last,
      };
      return deps.renderer.render(ctx, CONFIRM_VIEW, step);
    }
    if (!(await deps.totp.remove(current.accountId)))
      return renderPage(ctx, current, { error: text('notices.noTotpToRemove') }, 404);
    await deps.backupCodes.removeIfNoSecondFactor(current.accountId);
    await audit(ctx, current, { event: 'factor_removed', outcome: 'success', detail: { factor: 'totp' } });
    goTo(ctx, `${PAGE}?saved=totp-removed`);
  });

  router.post('/backup-codes', async (ctx) => {
    const current = await deps.session.requireRecent(ctx, PAGE);
    if (!current) return;
    const summary = await deps.accounts.factorSummary(current.accountId);
    if (!summary.totp && summary.passkeys === 0) {
      return renderPage(ctx, current, { error: text('notices.backupCodesNeedFactor') }, 400);
    }
    const codes = await deps.backupCodes.regenerate(current.accountId);
    await deps.handOff.hold(`session:${current.sessionUid}`, { codes, next: PAGE, replaced: true });
    await audit(ctx, current, {
      event: 'backup_codes_generated',
      outcome: 'success',
      detail: { factor: 'backup_codes' },
    });
    goTo(ctx, FRESH_BACKUP_CODES_PAGE);
  });

  // "Remember this browser" can be taken back here, one browser or all of them (a lost laptop).
  router.post('/remembered/forget-all', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    if (!confirmed(ctx.request.body)) {
      const remembered = (await deps.rememberedBrowsers.list(current.accountId)).length;
      if (!remembered) return goTo(ctx, `${PAGE}#remembered`);
      const step: ConfirmStep = {
        kind: 'browsers',
        nav: 'security',
        count: remembered,
        action: `${PAGE}/remembered/forget-all`,
        back: `${PAGE}#remembered`,
      };
      return deps.renderer.render(ctx, CONFIRM_VIEW, step);
    }
    const count = await deps.rememberedBrowsers.forgetAll(current.accountId);
    await audit(ctx, current, { event: 'remembered_browsers_forgotten', outcome: 'success', detail: { count } });
    goTo(ctx, `${PAGE}?saved=all-forgotten#remembered`);
  });

  router.post('/remembered/:id/forget', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    if (!(await deps.rememberedBrowsers.forget(current.accountId, ctx.params.id ?? '')))
      return renderPage(ctx, current, { error: text('notices.browserNotRemembered') }, 404);
    await audit(ctx, current, { event: 'remembered_browsers_forgotten', outcome: 'success', detail: { count: 1 } });
    goTo(ctx, `${PAGE}?saved=forgotten#remembered`);
  });

  router.get('/backup-codes', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const fresh = await deps.handOff.take(`session:${current.sessionUid}`);
    // Shown once: a reload comes back to the security page.
    if (!fresh) return goTo(ctx, PAGE);
    await deps.renderer.render(ctx, 'account-backup-codes', fresh);
  });

  return router.routes();
}
