import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import { z } from 'zod';
import type { IdentifierUpdate } from '../accounts/account.repository.ts';
import type { AccountService } from '../accounts/account.service.ts';
import type { Account } from '../accounts/account.table.ts';
import { maskEmail, maskPhoneNumber } from '../accounts/masked-identifier.ts';
import { formatPhoneNumber, parsePhoneNumber, type PhoneNumberProblem } from '../accounts/phone-number.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { csrfProtection } from '../http/csrf.ts';
import { PageError } from '../http/page-error.ts';
import type { Renderer } from '../http/render.ts';
import { clientIp, requestOrigin } from '../http/request-origin.ts';
import type { OneTimeCodes, Recipient } from '../verification/one-time-codes.ts';
import type { PageSession, SignedIn } from '../http/page-session.ts';
import {
  checkProblem,
  EXPIRED_CODE,
  malformedCode,
  parseFormCode,
  resendCountdown,
  sendCode,
} from '../verification/code-outcomes.ts';

type Deps = {
  accounts: AccountService;
  /** Codes for identifier changes: the same budgets and lockouts as sign-in, with their own wording. */
  codes: OneTimeCodes;
  /** How long a code lives, in words ("10 minutes"). */
  codeLifetime: string;
  /** Whether a text message can be delivered; without it no phone number can be verified. */
  smsAvailable: boolean;
  audit: AuditService;
  session: PageSession;
  renderer: Renderer;
  /** Tells the identifier an account just left that it did (the new one shown masked). */
  notifyPrevious(previous: Recipient, newMasked: string): Promise<void>;
};

type Parsed = { address: string } | { error: string };

/** What differs between changing the email address and changing the phone number. */
type Kind = {
  path: 'email' | 'phone';
  channel: Recipient['channel'];
  event: 'email_changed' | 'phone_changed';
  current(account: Account): string | null;
  parse(typed: string): Parsed;
  display(address: string): string;
  mask(address: string): string;
  change(accounts: AccountService, accountId: string, address: string): Promise<IdentifierUpdate>;
  words: {
    change: string;
    add: string;
    label: string;
    same: string;
    taken: string;
    checkTitle: string;
    source: string;
  };
  input: { type: string; autocomplete: string; inputmode: string; placeholder: string };
};

const emailSchema = z.email().max(254);

const PHONE_PROBLEMS: Record<PhoneNumberProblem, string> = {
  not_a_number: 'Enter a phone number with its country code, like +1 415 555 2671.',
  no_country_code: 'Start the phone number with + and its country code, like +1 415 555 2671.',
  invalid: 'That phone number is not valid. Check the country code and the digits.',
};

const KINDS: Record<'email' | 'phone', Kind> = {
  email: {
    path: 'email',
    channel: 'email',
    event: 'email_changed',
    current: (account) => account.email,
    parse(typed) {
      const email = emailSchema.safeParse(typed.trim().toLowerCase());
      return email.success ? { address: email.data } : { error: 'Enter a valid email address, like name@example.com.' };
    },
    display: (address) => address,
    mask: maskEmail,
    change: (accounts, accountId, address) => accounts.changeEmail(accountId, address),
    words: {
      change: 'Change your email',
      add: 'Add an email address',
      label: 'New email address',
      same: 'That is already your email address.',
      taken:
        'That email address already belongs to another FairyID account. Sign in with it to use that account, or choose another address.',
      checkTitle: 'Check your email',
      source: 'email',
    },
    input: { type: 'email', autocomplete: 'email', inputmode: 'email', placeholder: 'name@example.com' },
  },
  phone: {
    path: 'phone',
    channel: 'sms',
    event: 'phone_changed',
    current: (account) => account.phone_number,
    parse(typed) {
      const phone = parsePhoneNumber(typed);
      return phone.ok ? { address: phone.e164 } : { error: PHONE_PROBLEMS[phone.problem] };
    },
    display: formatPhoneNumber,
    mask: maskPhoneNumber,
    change: (accounts, accountId, address) => accounts.changePhone(accountId, address),
    words: {
      change: 'Change your phone number',
      add: 'Add a phone number',
      label: 'New phone number',
      same: 'That is already your phone number.',
      taken:
        'That phone number already belongs to another FairyID account. Sign in with it to use that account, or choose another number.',
      checkTitle: 'Check your phone',
      source: 'text message',
    },
    input: { type: 'tel', autocomplete: 'tel', inputmode: 'tel', placeholder: '+1 415 555 2671' },
  },
};

const NO_SMS = 'This FairyID cannot send text messages yet, so a phone number cannot be verified here.';

/**
 * `/account/email` and `/account/phone`: a new sign-in identifier is proved with a code sent to it
 * before it replaces the old one. Starting a change needs a recent sign-in, so a browser left
 * signed in cannot move the account to someone else's address. Whether another account already has
 * the identifier is only said once the code is confirmed, so only its owner learns it.
 */
export function identifierPageRoutes(deps: Deps) {
  const { codes, renderer } = deps;
  const router = new Router({ prefix: '/account' });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), csrfProtection);

  // Bound to the account and the browser's session: a code asked for here is redeemed nowhere else.
  const flowOf = (kind: Kind, current: SignedIn) => `${kind.path}-change:${current.accountId}:${current.sessionUid}`;

  const accountOf = async (current: SignedIn) => {
    const account = await deps.accounts.findById(current.accountId);
    if (!account)
      throw new PageError(404, 'This account no longer exists.', 'Account not found', {
        href: '/',
        label: 'Start again',
      });
    return account;
  };

  const audit = (
    ctx: Context,
    kind: Kind,
    current: SignedIn,
    outcome: 'success' | 'failure',
    detail: Record<string, unknown>,
  ) =>
    deps.audit.record({ event: kind.event, outcome, origin: requestOrigin(ctx), accountId: current.accountId, detail });

  const renderEnter = async (
    ctx: Context,
    kind: Kind,
    account: Account,
    data: { error?: string; errorField?: 'identifier'; typed?: string },
    status = 200,
  ) => {
    const current = kind.current(account);
    await renderer.render(
      ctx,
      'account-identifier',
      {
        path: kind.path,
        title: current ? kind.words.change : kind.words.add,
        current: current && kind.display(current),
        phone: kind.channel === 'sms',
        label: kind.words.label,
        input: kind.input,
        unavailable: kind.channel === 'sms' && !deps.smsAvailable ? NO_SMS : undefined,
        ...data,
      },
      status,
    );
  };

  const renderCode = async (
    ctx: Context,
    kind: Kind,
    flow: string,
    recipient: Recipient,
    data: { error?: string; errorField?: 'code'; notice?: string },
    status = 200,
  ) => {
    await renderer.render(
      ctx,
      'account-identifier-code',
      {
        path: kind.path,
        title: kind.words.checkTitle,
        phone: kind.channel === 'sms',
        address: kind.display(recipient.address),
        source: kind.words.source,
        lifetime: deps.codeLifetime,
        ...(await resendCountdown(codes, flow)),
        ...data,
      },
      status,
    );
  };

  const retryAfter = (ctx: Context, seconds: number | undefined) => {
    if (seconds) ctx.set('Retry-After', String(seconds));
  };

  /** The code page again while a code is waiting; else the form to start over. */
  const stayOnCode = async (
    ctx: Context,
    kind: Kind,
    current: SignedIn,
    recipient: Recipient | undefined,
    error: string,
    status: number,
    codeField = false,
  ) =>
    recipient
      ? renderCode(
          ctx,
          kind,
          flowOf(kind, current),
          recipient,
          { error, ...(codeField && { errorField: 'code' }) },
          status,
        )
      : renderEnter(ctx, kind, await accountOf(current), { error }, status);

  const send = (flow: string, recipient: Recipient, requester: { ip: string; accountId: string }) =>
    sendCode(() => codes.start(flow, recipient, requester), recipient.channel);

  for (const kind of Object.values(KINDS)) {
    const page = `/account/${kind.path}`;

    router.get(`/${kind.path}`, async (ctx) => {
      const current = await deps.session.requireRecent(ctx, page);
      if (!current) return;
      await renderEnter(ctx, kind, await accountOf(current), {});
    });

    router.post(`/${kind.path}`, async (ctx) => {
      const current = await deps.session.requireRecent(ctx, page);
      if (!current) return;
      const account = await accountOf(current);
      if (kind.channel === 'sms' && !deps.smsAvailable) return renderEnter(ctx, kind, account, {}, 503);
      const typed = String((ctx.request.body as Record<string, unknown>).identifier ?? '').slice(0, 320);
      const parsed = kind.parse(typed);
      if ('error' in parsed)
        return renderEnter(ctx, kind, account, { error: parsed.error, errorField: 'identifier', typed }, 400);
      if (parsed.address === kind.current(account))
        return renderEnter(ctx, kind, account, { error: kind.words.same, errorField: 'identifier', typed }, 400);
      const recipient: Recipient = { channel: kind.channel, address: parsed.address };
      const problem = await send(flowOf(kind, current), recipient, {
        ip: clientIp(ctx),
        accountId: current.accountId,
      });
      if (problem) {
        retryAfter(ctx, problem.retryAfter);
        return renderEnter(ctx, kind, account, { error: problem.message, typed }, problem.status);
      }
      ctx.status = 303;
      ctx.redirect(`${page}/confirm`);
    });

    router.get(`/${kind.path}/confirm`, async (ctx) => {
      const current = await deps.session.require(ctx, `${page}/confirm`);
      if (!current) return;
      const flow = flowOf(kind, current);
      const recipient = await codes.pending(flow);
      if (!recipient) return ctx.redirect(page);
      await renderCode(ctx, kind, flow, recipient, {});
    });

    router.post(`/${kind.path}/resend`, async (ctx) => {
      const current = await deps.session.require(ctx, page);
      if (!current) return;
      const flow = flowOf(kind, current);
      const recipient = await codes.pending(flow);
      if (!recipient) return renderEnter(ctx, kind, await accountOf(current), { error: EXPIRED_CODE }, 400);
      const problem = await send(flow, recipient, { ip: clientIp(ctx), accountId: current.accountId });
      if (problem) {
        retryAfter(ctx, problem.retryAfter);
        // A failed delivery withdraws the code it was to replace; with none waiting, start again.
        if (!(await codes.pending(flow)))
          return renderEnter(ctx, kind, await accountOf(current), { error: problem.message }, problem.status);
        return renderCode(ctx, kind, flow, recipient, { error: problem.message }, problem.status);
      }
      await renderCode(ctx, kind, flow, recipient, { notice: 'We sent a new code. Earlier codes no longer work.' });
    });

    router.post(`/${kind.path}/confirm`, async (ctx) => {
      const current = await deps.session.require(ctx, page);
      if (!current) return;
      const flow = flowOf(kind, current);
      const recipient = await codes.pending(flow);
      const code = parseFormCode(ctx.request.body);
      if (recipient && !code)
        return renderCode(
          ctx,
          kind,
          flow,
          recipient,
          { error: malformedCode(kind.channel).message, errorField: 'code' },
          400,
        );
      const result = code
        ? await codes.verify(flow, code, { ip: clientIp(ctx), accountId: current.accountId })
        : ({ status: 'expired' } as const);
      if (result.status !== 'ok') {
        const problem = checkProblem(result, kind.channel);
        const to = recipient && kind.mask(recipient.address);
        if (problem.reason) await audit(ctx, kind, current, 'failure', { to, reason: problem.reason });
        if (problem.lockedOutUntil) {
          await deps.audit.record({
            event: 'lockout',
            outcome: 'failure',
            origin: requestOrigin(ctx),
            accountId: current.accountId,
            detail: { channel: kind.channel, until: problem.lockedOutUntil.toISOString() },
          });
        }
        retryAfter(ctx, problem.retryAfter);
        if (problem.page === 'code') {
          const wrong = problem.reason === 'wrong_code';
          return stayOnCode(ctx, kind, current, recipient, problem.message, problem.status, wrong);
        }
        return renderEnter(ctx, kind, await accountOf(current), { error: problem.message }, problem.status);
      }
      const address = result.recipient.address;
      const changed = await kind.change(deps.accounts, current.accountId, address);
      if (changed.status === 'not_found')
        throw new PageError(404, 'This account no longer exists.', 'Account not found', {
          href: '/',
          label: 'Start again',
        });
      if (changed.status === 'taken') {
        await audit(ctx, kind, current, 'failure', { to: kind.mask(address), reason: 'taken' });
        return renderEnter(
          ctx,
          kind,
          await accountOf(current),
          { error: kind.words.taken, errorField: 'identifier', typed: kind.display(address) },
          409,
        );
      }
      await audit(ctx, kind, current, 'success', {
        from: changed.previous && kind.mask(changed.previous),
        to: kind.mask(address),
      });
      if (changed.previous)
        await deps.notifyPrevious({ channel: kind.channel, address: changed.previous }, kind.mask(address));
      ctx.status = 303;
      return ctx.redirect(`/account?changed=${kind.path}`);
    });
  }

  return router.routes();
}
