import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { AccountService } from '../accounts/account.service.ts';
import type { BackupCodeService } from '../accounts/backup-code.service.ts';
import { FACTOR_NAME_MAX, FACTOR_NAME_PROBLEM, factorNameSchema } from '../accounts/factor-name.ts';
import type { Passkey } from '../accounts/factor.table.ts';
import { methodOf, registrationResponseSchema, type PasskeyService } from '../accounts/passkey.service.ts';
import type { AuditRecord, AuditService } from '../audit/audit.service.ts';
import { csrfProtection } from '../http/csrf.ts';
import { jsonErrors } from '../http/json-errors.ts';
import type { Renderer } from '../http/render.ts';
import { requestOrigin } from '../http/request-origin.ts';
import type { BackupCodeHandOff } from '../interaction/backup-code-hand-off.ts';
import type { PageSession, SignedIn } from '../http/page-session.ts';
import { parseBody, refusal } from '../interaction/passkey-refusals.ts';
import { ApiError } from '../shared/api-error.ts';
import { backupCodesOnEnrollment } from './backup-codes-on-enrollment.ts';
import { CONFIRM_VIEW, type ConfirmStep, confirmed } from './confirm-step.ts';
import { shownTime } from './relative-time.ts';

const PAGE = '/account/passkeys';

const NOTICES: Record<string, string> = {
  added: 'Your passkey is added. You can sign in with it from now on.',
  renamed: 'The name is saved.',
  removed: 'The passkey is removed. It can no longer sign in to your account.',
};
const NOT_YOURS = 'That passkey is not one of yours, or it was already removed.';

const addBody = z.object({ credential: registrationResponseSchema, name: z.string().max(1000).optional() });

type Deps = {
  passkeys: PasskeyService;
  accounts: AccountService;
  backupCodes: BackupCodeService;
  handOff: BackupCodeHandOff;
  audit: AuditService;
  session: PageSession;
  renderer: Renderer;
};

/** The script's steps (options, then the new passkey): JSON in and out, whatever a caller sends. */
export const isPasskeyScriptRequest = (ctx: Pick<Context, 'method' | 'path'>) =>
  ctx.method === 'POST' && /^\/account\/passkeys(?:\/options)?\/?$/.test(ctx.path);

// The script's steps get JSON errors (a stale CSRF token, a body that is no JSON object); the
// forms get pages. By route, not by content type: a form posted at a JSON step is still answered in JSON.
const scriptErrorsAsJson: Middleware = (ctx, next) => (isPasskeyScriptRequest(ctx) ? jsonErrors(ctx, next) : next());

/** A name as typed: empty means "choose one for me" when adding; otherwise 1 to 60 characters. */
function parseName(typed: unknown): { name: string | undefined } | { error: string } {
  const text = typeof typed === 'string' ? typed.trim() : '';
  if (!text) return { name: undefined };
  const parsed = factorNameSchema.safeParse(text);
  return parsed.success ? { name: parsed.data } : { error: FACTOR_NAME_PROBLEM };
}

/**
 * `/account/passkeys`: a person's passkeys, adding one (a JSON ceremony driven by
 * views/assets/passkeys.js), renaming and removing one (plain forms). Adding asks for a recent
 * sign-in, as a passkey signs in on its own: a stolen session must not be able to plant one.
 */
export function passkeyPageRoutes(deps: Deps) {
  const router = new Router({ prefix: PAGE });
  router.use(
    scriptErrorsAsJson,
    bodyParser({ enableTypes: ['form', 'json'], formLimit: '16kb', jsonLimit: '64kb' }),
    csrfProtection,
  );

  const audit = (ctx: Context, current: SignedIn, entry: Omit<AuditRecord, 'origin' | 'accountId'>) =>
    deps.audit.record({ ...entry, origin: requestOrigin(ctx), accountId: current.accountId });

  const renderPage = async (
    ctx: Context,
    current: SignedIn,
    messages: { notice?: string | undefined; error?: string } = {},
    status = 200,
  ) => {
    const passkeys = (await deps.passkeys.list(current.accountId)).map((passkey: Passkey) => ({
      id: passkey.id,
      name: passkey.name,
      created: shownTime(passkey.created_at),
      lastUsed: passkey.last_used_at && shownTime(passkey.last_used_at),
      synced: methodOf(passkey) === 'passkey_swk',
    }));
    await deps.renderer.render(ctx, 'account-passkeys', { passkeys, nameMax: FACTOR_NAME_MAX, ...messages }, status);
  };

  const goTo = (ctx: Context, location: string) => {
    ctx.status = 303;
    ctx.redirect(location);
  };

  /**
   * For the JSON steps: the signed-in person, recently signed in; otherwise a 403 whose `redirectTo`
   * is the sign-in that comes back here (the script goes there).
   */
  const recentForJson = async (ctx: Context) => {
    const current = await deps.session.requireRecent(ctx, PAGE);
    if (current) return current;
    const redirectTo = ctx.response.get('Location');
    ctx.remove('Location');
    ctx.status = 403;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      error: 'reauthentication_required',
      error_description: 'To add a passkey, first confirm it is you by signing in again.',
      redirectTo,
    };
    return undefined;
  };

  router.get('/', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const notice = typeof ctx.query.saved === 'string' ? NOTICES[ctx.query.saved] : undefined;
    await renderPage(ctx, current, { notice });
  });

  router.post('/options', async (ctx) => {
    const current = await recentForJson(ctx);
    if (!current) return;
    const account = await deps.accounts.findById(current.accountId);
    if (!account) throw new ApiError(404, 'not_found', 'This account no longer exists.');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await deps.passkeys.registrationOptions(account, `session:${current.sessionUid}`);
  });

  router.post('/', async (ctx) => {
    const current = await recentForJson(ctx);
    if (!current) return;
    const { credential, name: typed } = parseBody(addBody, ctx.request.body);
    const name = parseName(typed);
    if ('error' in name) throw new ApiError(400, 'invalid_name', name.error);
    const result = await deps.passkeys.verifyRegistration(
      current.accountId,
      `session:${current.sessionUid}`,
      credential,
      name.name,
    );
    if (!result.ok) throw refusal(result);
    await audit(ctx, current, {
      event: 'factor_added',
      outcome: 'success',
      detail: { factor: 'passkey', name: result.passkey.name },
    });
    // Creating it took the person's verification on the new passkey: it counts for this session.
    await deps.session.recordFactor(ctx, methodOf(result.passkey));
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { redirectTo: await backupCodesOnEnrollment(deps, current, `${PAGE}?saved=added`) };
  });

  router.post('/:id/rename', async (ctx) => {
    const current = await deps.session.require(ctx, PAGE);
    if (!current) return;
    const name = parseName((ctx.request.body as Record<string, unknown>).name);
    if ('error' in name || !name.name) return renderPage(ctx, current, { error: FACTOR_NAME_PROBLEM }, 400);
    const renamed = await deps.passkeys.rename(current.accountId, String(ctx.params.id), name.name);
    if (!renamed) return renderPage(ctx, current, { error: NOT_YOURS }, 404);
    await audit(ctx, current, {
      event: 'factor_renamed',
      outcome: 'success',
      detail: { factor: 'passkey', name: renamed.name },
    });
    goTo(ctx, `${PAGE}?saved=renamed`);
  });

  router.post('/:id/remove', async (ctx) => {
    const signedIn = await deps.session.require(ctx, PAGE);
    if (!signedIn) return;
    const id = String(ctx.params.id);
    const [summary, mine] = await Promise.all([
      deps.accounts.factorSummary(signedIn.accountId),
      deps.passkeys.list(signedIn.accountId),
    ]);
    const passkey = mine.find((candidate) => candidate.id === id);
    if (!passkey) return renderPage(ctx, signedIn, { error: NOT_YOURS }, 404);
    // Removing the last second factor turns two-step sign-in off: that takes a fresh sign-in.
    const last = !summary.totp && summary.passkeys <= 1;
    const current = last ? await deps.session.requireRecent(ctx, PAGE) : signedIn;
    if (!current) return;
    if (!confirmed(ctx.request.body)) {
      const step: ConfirmStep = {
        kind: 'passkey',
        nav: 'passkeys',
        name: passkey.name,
        action: `${PAGE}/${encodeURIComponent(id)}/remove`,
        back: PAGE,
        lastFactor: last,
      };
      return deps.renderer.render(ctx, CONFIRM_VIEW, step);
    }
    const removed = await deps.passkeys.remove(current.accountId, id);
    if (!removed) return renderPage(ctx, current, { error: NOT_YOURS }, 404);
    await deps.backupCodes.removeIfNoSecondFactor(current.accountId);
    await audit(ctx, current, {
      event: 'factor_removed',
      outcome: 'success',
      detail: { factor: 'passkey', name: removed.name },
    });
    goTo(ctx, `${PAGE}?saved=removed`);
  });

  return router.routes();
}
