import { MailDeliveryError, SmsDeliveryError } from '../notifications/message.ts';
import { durationText } from '../i18n/duration.ts';
import { type Text, text } from '../i18n/translator.ts';
import { countdownClock, secondsUntil } from '../shared/duration.ts';
import { lockedOutMessage } from './locked-out-message.ts';
import type { OneTimeCodes, Recipient, StartResult, VerifyResult } from './one-time-codes.ts';

/**
 * What a page shows when a one-time code could not be sent or did not work: one wording for every
 * page that sends or checks codes (sign-in, the second step, identifier changes), so they agree.
 * `retryAfter` goes into a Retry-After header (RFC 9110 10.2.3).
 */
export type CodeProblem = { status: number; message: Text; retryAfter?: number };

/** A failed check: where the page goes next, and what the audit trail records about it. */
export type CheckProblem = CodeProblem & {
  /** `code`: the code page again, while that code is still waiting; `start`: ask for a code afresh. */
  page: 'code' | 'start';
  /** The audit reason for a code that was checked and failed; undefined when nothing was checked. */
  reason: 'wrong_code' | 'too_many_wrong_codes' | 'expired' | undefined;
  /** When this wrong code started a lockout: until when (an audit event of its own). */
  lockedOutUntil?: Date;
};

const source = (channel: Recipient['channel']) => text(`verification.source.${channel}`);

/** What else a page offers when a code could not be sent. */
export type Alternative = 'email' | 'another';

/** Six digits as typed into a form, spaces forgiven; undefined for anything else. */
export function parseFormCode(body: unknown): string | undefined {
  const typed = (body as Record<string, unknown> | undefined)?.code;
  const code = typeof typed === 'string' ? typed.replace(/\s/g, '') : '';
  return /^\d{6}$/.test(code) ? code : undefined;
}

/** For a form whose code is not six digits. */
export function malformedCode(channel: Recipient['channel']): CodeProblem {
  return { status: 400, message: text('verification.malformed', { source: source(channel) }) };
}

/** An authenticator app's code (TOTP), checked at sign-in and when the app is added. */
export const APP_CODE = {
  malformed: text('verification.appCodeMalformed'),
  wrong: text('verification.appCodeWrong'),
} as const;

/** Said when there is no code waiting (it expired, was used, or was never sent). */
export const EXPIRED_CODE = text('verification.expired');

/**
 * A send that did not happen. Throttling is the person's doing (429); a mail server or SMS provider
 * that fails is ours (503). `alternative` is what else the page offers (your email address, another way).
 */
export function sendProblem(
  outcome: Exclude<StartResult, { status: 'sent' }> | { status: 'undelivered' },
  channel: Recipient['channel'],
  alternative?: Alternative,
): CodeProblem {
  switch (outcome.status) {
    case 'locked_out':
      return lockedOut(outcome.until, channel);
    case 'throttled': {
      const wait = durationText(outcome.retryAfter);
      const message = text(outcome.reason === 'resend' ? 'verification.resendWait' : 'verification.sendLimited', {
        wait,
      });
      return { status: 429, message, retryAfter: outcome.retryAfter };
    }
    case 'undelivered':
      return {
        status: 503,
        message: alternative
          ? text('verification.undeliveredOr', {
              source: source(channel),
              alternative: text(`verification.alternative.${alternative}`),
            })
          : text('verification.undelivered', { source: source(channel) }),
      };
  }
}

/**
 * Sends a code through `start` and says what went wrong, if anything. Delivery errors become a 503
 * problem; anything else is a bug and is thrown.
 */
export async function sendCode(
  start: () => Promise<StartResult>,
  channel: Recipient['channel'],
  alternative?: Alternative,
): Promise<CodeProblem | undefined> {
  try {
    const started = await start();
    return started.status === 'sent' ? undefined : sendProblem(started, channel, alternative);
  } catch (error) {
    if (error instanceof MailDeliveryError || error instanceof SmsDeliveryError)
      return sendProblem({ status: 'undelivered' }, channel, alternative);
    throw error;
  }
}

/** A check that did not sign the person in (or prove the address). */
export function checkProblem(
  outcome: Exclude<VerifyResult, { status: 'ok' }>,
  channel: Recipient['channel'] | undefined,
): CheckProblem {
  switch (outcome.status) {
    case 'wrong': {
      const message = text('verification.wrong', { count: outcome.attemptsLeft });
      return { status: 400, message, page: 'code', reason: 'wrong_code' };
    }
    case 'limited':
      // Nothing was checked: the code still works once the wait is over.
      return { ...refusedCheck(outcome), page: 'code', reason: undefined };
    case 'locked_out':
      // Only the wrong code that started the lockout is news; later attempts were refused unchecked.
      return {
        ...lockedOut(outcome.until, channel),
        page: 'start',
        reason: outcome.started ? 'wrong_code' : undefined,
        ...(outcome.started ? { lockedOutUntil: outcome.until } : {}),
      };
    case 'locked':
      return {
        status: 429,
        message: text('verification.tooManyWrong'),
        page: 'start',
        reason: 'too_many_wrong_codes',
      };
    case 'expired':
      return { status: 400, message: EXPIRED_CODE, page: 'start', reason: 'expired' };
  }
}

/**
 * A check the abuse controls refused before looking at the code or factor (an authenticator app's
 * code, a backup code): a spent budget, or a lockout.
 */
export function refusedCheck(
  verdict: { status: 'limited'; retryAfter: number } | { status: 'locked'; until: Date },
  channel?: Recipient['channel'],
): CodeProblem {
  if (verdict.status === 'locked') return lockedOut(verdict.until, channel);
  const message = text('verification.tooManyAttempts', { wait: durationText(verdict.retryAfter) });
  return { status: 429, message, retryAfter: verdict.retryAfter };
}

/** Names the locked channel when it is known, else the account. */
function lockedOut(until: Date, channel: Recipient['channel'] | undefined): CodeProblem {
  const retryAfter = secondsUntil(until);
  return { status: 429, message: lockedOutMessage(retryAfter, channel), retryAfter };
}

/** What a code page's resend button needs: the seconds left of the flow's resend wait, and as "0:30". */
export async function resendCountdown(codes: Pick<OneTimeCodes, 'resendWait'>, flow: string) {
  return countdownOf(await codes.resendWait(flow));
}

/** `resendCountdown` when the seconds left are already known (OneTimeCodes' `waiting`). */
export const countdownOf = (resendIn: number) => ({ resendIn, resendClock: countdownClock(resendIn) });
