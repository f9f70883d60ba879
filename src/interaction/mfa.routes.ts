import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { AccountService } from '../accounts/account.service.ts';
import { accountLabel } from '../accounts/account-label.ts';
import type { BackupCodeService } from '../accounts/backup-code.service.ts';
import type { TotpService } from '../accounts/totp.service.ts';
import type { AuditRecord, AuditService } from '../audit/audit.service.ts';
import { csrfProtection } from '../http/csrf.ts';
import type { Renderer } from '../http/render.ts';
import { clientIp, requestOrigin } from '../http/request-origin.ts';
import type { AbuseControls } from '../verification/abuse-controls.ts';
import type { BackupCodeHandOff } from './backup-code-hand-off.ts';
import { interactionEnded, loadInteraction, type Interaction } from './interaction-details.ts';
import {
  APP_CODE,
  checkProblem,
  EXPIRED_CODE,
  malformedCode,
  parseFormCode,
  refusedCheck,
  resendCountdown,
  sendCode,
} from '../verification/code-outcomes.ts';
import { mfaOptions, type MfaOptions } from './mfa-options.ts';
import type { OneTimeCodes, Recipient } from '../verification/one-time-codes.ts';
import { maskForSecondStep } from '../accounts/masked-identifier.ts';
import type { SecondFactorCompletion } from './second-factor-completion.ts';

type Deps = {
  provider: () => Provider;
  renderer: Renderer;
  accounts: AccountService;
  totp: TotpService;
  backupCodes: BackupCodeService;
  codes: OneTimeCodes;
  codeLifetime: string;
  smsAvailable: boolean;
  abuse: AbuseControls;
  audit: AuditService;
  secondFactor: SecondFactorCompletion;
  handOff: BackupCodeHandOff;
};

type Step = { interaction: Interaction; accountId: string; options: MfaOptions; accountLabel: string };

/**
 * The `mfa` prompt's pages: the second step of a sign-in (authenticator app, passkey, backup code,
 * or a code by the other channel), and enrolling a first factor when the relying party asked for
 * more than the person has.
 */
export function mfaRoutes(deps: Deps) {
  const { renderer } = deps;
  const router = new Router({ prefix: '/interaction/:uid/mfa' });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), csrfProtection);

  const flow = (uid: string) => `mfa:${uid}`;

  /** The interaction, which must be at the `mfa` prompt, and what this person can use to pass it. */
  const load = async (ctx: Context): Promise<Step> => stepOf(await loadInteraction(deps.provider(), ctx));

  const stepOf = async (interaction: Interaction): Promise<Step> => {
    const accountId = interaction.session?.accountId;
    if (interaction.prompt.name !== 'mfa' || !accountId) throw interactionEnded();
    const account = await deps.accounts.findById(accountId);
    if (!account) throw interactionEnded();
    const options = mfaOptions(interaction, account, await deps.accounts.factorSummary(accountId), deps.smsAvailable);
    return { interaction, accountId, options, accountLabel: accountLabel(account) };
  };

  const audit = (ctx: Context, step: Step, entry: Omit<AuditRecord, 'origin' | 'clientId' | 'accountId'>) =>
    deps.audit.record({
      ...entry,
      origin: requestOrigin(ctx),
      accountId: step.accountId,
      clientId: String(step.interaction.params.client_id),
    });

  const enrolling = (options: MfaOptions) =>
    options.mayEnroll && (options.required === 'phr' ? !options.passkey : !options.totp && !options.passkey);

  const renderChoice = async (
    ctx: Context,
    step: Step,
    messages: { error?: string | undefined; errorField?: 'code'; notice?: string | undefined } = {},
    status = 200,
  ) => {
    const { interaction, options } = step;
    const clientName =
      (await deps.provider().Client.find(String(interaction.params.client_id)))?.clientName ?? 'the application';
    const view = enrolling(options) ? 'mfa-enroll' : 'mfa';
    await renderer.render(
      ctx,
      view,
      {
        uid: interaction.uid,
        clientName,
        options,
        otherChannel:
          options.otherChannel && maskForSecondStep(options.otherChannel.channel, options.otherChannel.address),
        backupCodesLeft: options.backupCodesLeft,
        ...messages,
      },
      status,
    );
  };

  /** A refused check: the limit's wait, or the lockout's unlock time, on the page it came from. */
  const refuse = (
    ctx: Context,
    verdict: { status: 'limited'; retryAfter: number } | { status: 'locked'; until: Date },
  ) => {
    const problem = refusedCheck(verdict);
    if (problem.retryAfter) ctx.set('Retry-After', String(problem.retryAfter));
    return problem.message;
  };

  /**
   * Every factor checked here shares the account's check budget and lockout with the code pages:
   * a wrong app code and a wrong backup code count the same.
   */
  const checkFactor = async (ctx: Context, step: Step, check: () => Promise<boolean>): Promise<string | undefined> => {
    const identifier = `account:${step.accountId}` as const;
    const verdict = await deps.abuse.allowCheck({ identifier, ip: clientIp(ctx), accountId: step.accountId });
    if (verdict.status !== 'allowed') return refuse(ctx, verdict);
    const right = await check().catch(async (error: unknown) => {
      // Not a wrong factor: the place allowCheck held among the account's failures is given back.
      await deps.abuse.releaseCheck(identifier);
      throw error;
    });
    if (right) {
      await deps.abuse.recordSuccess(identifier);
      return undefined;
    }
    const lockout = await deps.abuse.recordFailure(identifier);
    if (lockout) {
      await audit(ctx, step, { event: 'lockout', outcome: 'failure', detail: { until: lockout.until.toISOString() } });
      return refuse(ctx, lockout);
    }
    return '';
  };

  /** The "Remember this browser for 30 days" box on the form that passed the step. */
  const remembers = (ctx: Context) => (ctx.request.body as Record<string, unknown>).remember === 'yes';

  const goOn = (ctx: Context, next: string) => {
    ctx.status = 303;
    ctx.redirect(next);
  };

  router.get('/', async (ctx) => {
    const interaction = await loadInteraction(deps.provider(), ctx);
    if (interaction.prompt.name !== 'mfa') return ctx.redirect(`/interaction/${interaction.uid}`);
    await renderChoice(ctx, await stepOf(interaction));
  });

  router.post('/totp', async (ctx) => {
    const step = await load(ctx);
    if (!step.options.totp) return renderChoice(ctx, step, { error: 'Use one of the ways below.' }, 400);
    const code = parseFormCode(ctx.request.body);
    if (!code) return renderChoice(ctx, step, { error: APP_CODE.malformed, errorField: 'code' }, 400);
    let replayed = false;
    const problem = await checkFactor(ctx, step, async () => {
      const result = await deps.totp.check(step.accountId, code);
      replayed = result === 'replayed';
      return result === 'ok';
    });
    if (problem !== undefined) {
      await audit(ctx, step, {
        event: 'second_factor_failed',
        outcome: 'failure',
        detail: { method: 'totp', reason: replayed ? 'code_reused' : 'wrong_code' },
      });
      const message =
        problem || (replayed ? 'That code was already used. Wait for your app to show the next one.' : APP_CODE.wrong);
      // A limit's wait is no fault of the typed code; a wrong or reused code is.
      return renderChoice(
        ctx,
        step,
        { error: message, ...(problem ? {} : { errorField: 'code' }) },
        problem ? 429 : 400,
      );
    }
    goOn(ctx, await deps.secondFactor.complete(ctx, step.interaction, 'totp', { remember: remembers(ctx) }));
  });

  router.get('/backup-code', async (ctx) => {
    const step = await load(ctx);
    if (!step.options.backupCode) return ctx.redirect(`/interaction/${step.interaction.uid}/mfa`);
    await renderer.render(ctx, 'mfa-backup-code', { uid: step.interaction.uid, left: step.options.backupCodesLeft });
  });

  router.post('/backup-code', async (ctx) => {
    const step = await load(ctx);
    const uid = step.interaction.uid;
    if (!step.options.backupCode)
      return renderChoice(ctx, step, { error: 'You have no backup codes left. Use one of the ways below.' }, 400);
    const typed = String((ctx.request.body as Record<string, unknown>).code ?? '').slice(0, 64);
    const problem = await checkFactor(ctx, step, () => deps.backupCodes.consume(step.accountId, typed));
    if (problem !== undefined) {
      await audit(ctx, step, {
        event: 'second_factor_failed',
        outcome: 'failure',
        detail: { method: 'backup_code', reason: 'wrong_code' },
      });
      const error = problem || 'That backup code is not right, or it was already used. Each code works once.';
      const left = await deps.backupCodes.remaining(step.accountId);
      const errorField = problem ? undefined : 'backup-code';
      return renderer.render(ctx, 'mfa-backup-code', { uid, error, errorField, left }, problem ? 429 : 400);
    }
    await audit(ctx, step, {
      event: 'backup_code_used',
      outcome: 'success',
      detail: { left: await deps.backupCodes.remaining(step.accountId) },
    });
    goOn(ctx, await deps.secondFactor.complete(ctx, step.interaction, 'backup_code', { remember: remembers(ctx) }));
  });

  router.post('/send-code', async (ctx) => {
    const step = await load(ctx);
    const recipient = step.options.otherChannel;
    if (!recipient) return renderChoice(ctx, step, { error: 'Use one of the ways below.' }, 400);
    const error = await sendTo(ctx, step, recipient);
    if (error) return renderChoice(ctx, step, { error: error.message }, error.status);
    goOn(ctx, `/interaction/${step.interaction.uid}/mfa/code`);
  });

  const sendTo = async (ctx: Context, step: Step, recipient: Recipient) => {
    const problem = await sendCode(
      () => deps.codes.start(flow(step.interaction.uid), recipient, { ip: clientIp(ctx), accountId: step.accountId }),
      recipient.channel,
      'use another way',
    );
    if (problem?.retryAfter) ctx.set('Retry-After', String(problem.retryAfter));
    return problem;
  };

  const renderCode = async (
    ctx: Context,
    step: Step,
    recipient: Recipient,
    messages: { error?: string; errorField?: 'code'; notice?: string } = {},
    status = 200,
  ) => {
    await renderer.render(
      ctx,
      'mfa-code',
      {
        uid: step.interaction.uid,
        channel: recipient.channel,
        address: maskForSecondStep(recipient.channel, recipient.address),
        lifetime: deps.codeLifetime,
        ...(await resendCountdown(deps.codes, flow(step.interaction.uid))),
        ...messages,
      },
      status,
    );
  };

  router.get('/code', async (ctx) => {
    const step = await load(ctx);
    const recipient = await deps.codes.pending(flow(step.interaction.uid));
    if (!recipient) return ctx.redirect(`/interaction/${step.interaction.uid}/mfa`);
    await renderCode(ctx, step, recipient);
  });

  router.post('/resend', async (ctx) => {
    const step = await load(ctx);
    const recipient = await deps.codes.pending(flow(step.interaction.uid));
    if (!recipient) return ctx.redirect(`/interaction/${step.interaction.uid}/mfa`);
    const error = await sendTo(ctx, step, recipient);
    if (error) return renderCode(ctx, step, recipient, { error: error.message }, error.status);
    await renderCode(ctx, step, recipient, { notice: 'We sent a new code. Earlier codes no longer work.' });
  });

  router.post('/code', async (ctx) => {
    const step = await load(ctx);
    const recipient = await deps.codes.pending(flow(step.interaction.uid));
    if (!recipient) return renderChoice(ctx, step, { error: EXPIRED_CODE }, 400);
    const code = parseFormCode(ctx.request.body);
    if (!code)
      return renderCode(
        ctx,
        step,
        recipient,
        { error: malformedCode(recipient.channel).message, errorField: 'code' },
        400,
      );
    const result = await deps.codes.verify(flow(step.interaction.uid), code, {
      ip: clientIp(ctx),
      accountId: step.accountId,
    });
    if (result.status === 'ok')
      return goOn(
        ctx,
        await deps.secondFactor.complete(ctx, step.interaction, result.recipient.channel, { remember: remembers(ctx) }),
      );
    const problem = checkProblem(result, recipient.channel);
    if (problem.reason) {
      await audit(ctx, step, {
        event: 'second_factor_failed',
        outcome: 'failure',
        detail: { method: recipient.channel, reason: problem.reason },
      });
    }
    if (problem.lockedOutUntil) {
      const until = problem.lockedOutUntil.toISOString();
      await audit(ctx, step, { event: 'lockout', outcome: 'failure', detail: { channel: recipient.channel, until } });
    }
    if (problem.retryAfter) ctx.set('Retry-After', String(problem.retryAfter));
    if (problem.page === 'code') {
      const field = problem.reason === 'wrong_code' ? { errorField: 'code' as const } : {};
      return renderCode(ctx, step, recipient, { error: problem.message, ...field }, problem.status);
    }
    return renderChoice(ctx, step, { error: problem.message }, problem.status);
  });

  router.get('/totp-setup', async (ctx) => {
    const step = await load(ctx);
    if (!step.options.mayEnroll || step.options.required === 'phr')
      return ctx.redirect(`/interaction/${step.interaction.uid}/mfa`);
    const enrollment = await deps.totp.beginEnrollment(step.accountId, step.accountLabel);
    await renderer.render(ctx, 'mfa-totp-setup', { uid: step.interaction.uid, enrollment });
  });

  router.post('/totp-setup', async (ctx) => {
    const step = await load(ctx);
    const uid = step.interaction.uid;
    if (!step.options.mayEnroll || step.options.required === 'phr') throw interactionEnded();
    const body = ctx.request.body as Record<string, unknown>;
    const pending = String(body.pending ?? '');
    const code = parseFormCode(body);
    const enrollment = await deps.totp.resumeEnrollment(step.accountId, step.accountLabel, pending);
    if (!enrollment)
      return renderChoice(ctx, step, { error: 'That setup took too long. Start again to get a new key.' }, 400);
    const retry = (error: string, status = 400) =>
      renderer.render(ctx, 'mfa-totp-setup', { uid, enrollment, error }, status);
    if (!code) return retry(APP_CODE.malformed);
    const problem = await checkFactor(
      ctx,
      step,
      async () => (await deps.totp.confirmEnrollment(step.accountId, pending, code)) === 'ok',
    );
    if (problem) return retry(problem, 429);
    if (problem === '') return retry(APP_CODE.wrong);
    await audit(ctx, step, { event: 'factor_added', outcome: 'success', detail: { factor: 'totp' } });
    goOn(ctx, await deps.secondFactor.complete(ctx, step.interaction, 'totp', { enrolled: true }));
  });

  router.get('/backup-codes', async (ctx) => {
    const interaction = await loadInteraction(deps.provider(), ctx);
    const fresh = await deps.handOff.take(`interaction:${interaction.uid}`);
    // Shown once: a reload, or a second tab, goes straight on.
    if (!fresh) return ctx.redirect(interaction.returnTo);
    await renderer.render(ctx, 'mfa-backup-codes', fresh);
  });

  return router.routes();
}
