import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { formatPhoneNumber } from '../accounts/phone-number.ts';
import type { KeyValueStore } from '../db/key-value.ts';
import { DEFAULT_LOCALE, type Locale } from '../i18n/locales.ts';
import { type Clock, systemClock } from '../shared/clock.ts';
import type { AbuseControls, Identifier } from './abuse-controls.ts';

export type OneTimeCodeSettings = { ttl: number; maxAttempts: number; resendSeconds: number };

/** Where a code goes: an email address (lowercase) or a phone number (E.164). */
export type Recipient = { channel: 'email' | 'sms'; address: string };

/** Who is asking, for the per-IP and per-account budgets, and the language their code is sent in. */
export type Requester = { ip: string | null; accountId?: string | undefined; locale?: Locale };

/** `expiresAt` (ms) decides expiry; the store's own expiry only clears the key away. */
type Challenge = Recipient & { hash: string; expiresAt?: number };

export type StartResult =
  | { status: 'sent' }
  /** `resend`: this flow was sent a code moments ago; `limited`: a send budget is spent. */
  | { status: 'throttled'; reason: 'resend' | 'limited'; retryAfter: number }
  | { status: 'locked_out'; until: Date };

/**
 * A failure names the recipient of the code that was pending when the check began (none when no code
 * was), so that a page need not read the pending code first: one read fewer on every code form.
 */
export type VerifyResult =
  | { status: 'ok'; recipient: Recipient }
  | ((
      | { status: 'wrong'; attemptsLeft: number }
      | { status: 'expired' }
      /** This code's attempts are used up; a new code starts afresh. */
      | { status: 'locked' }
      | { status: 'limited'; retryAfter: number }
      /** Too many failures for this recipient: no code works until then. `started`: this attempt's wrong code began the lockout. */
      | { status: 'locked_out'; until: Date; started?: true }
    ) & { recipient?: Recipient });

/** How the pages name where a code went; also what goes back into the sign-in field, so asking again is one press. */
export function displayedAddress(recipient: Recipient): string {
  return recipient.channel === 'sms' ? formatPhoneNumber(recipient.address) : recipient.address;
}

export const identifierOf = (recipient: Recipient): Identifier =>
  recipient.channel === 'email' ? `email:${recipient.address}` : `phone:${recipient.address}`;

/** What became of a request to send a code: sent, or why not. */
export type SendOutcome = 'sent' | 'delivery_failed' | 'resend_wait' | 'limited' | 'locked_out';

/** What a code proves, which decides the words of its message. */
export type CodePurpose = 'sign_in' | 'identifier_change';

/**
 * Six-digit codes bound to one flow (a sign-in interaction, an identifier change): a code works only
 * in the flow that asked for it, once, within its lifetime and its attempt budget. Every send and
 * every check also passes the shared abuse controls, whatever the purpose: `for(purpose)` only
 * chooses the message that carries the code.
 */
export function createOneTimeCodes(deps: {
  kv: KeyValueStore;
  secret: string;
  settings: OneTimeCodeSettings;
  abuse: AbuseControls;
  deliver: (recipient: Recipient, code: string, purpose: CodePurpose, locale: Locale) => Promise<void>;
  clock?: Clock;
  /** Told what became of each request to send a code (the metrics count them by channel and outcome). */
  onSend?: (channel: Recipient['channel'], purpose: CodePurpose, outcome: SendOutcome) => void;
}) {
  const { kv, settings, abuse } = deps;
  const clock = deps.clock ?? systemClock;
  // One hash tag per flow keeps its keys in one Redis Cluster slot.
  const challengeKey = (flow: string) => `otp:{${flow}}:challenge`;
  const attemptsKey = (flow: string) => `otp:{${flow}}:attempts`;
  const resendKey = (flow: string) => `otp:{${flow}}:resend`;
  const digest = (flow: string, recipient: Recipient, code: string) =>
    createHmac('sha256', deps.secret)
      .update(`${flow}\n${recipient.channel}\n${recipient.address}\n${code}`)
      .digest('base64url');

  /** A stored code while it is still valid. */
  const validChallenge = (raw: string | null | undefined): Challenge | undefined => {
    if (!raw) return undefined;
    const challenge = JSON.parse(raw) as Challenge;
    return challenge.expiresAt !== undefined && challenge.expiresAt <= clock.now() ? undefined : challenge;
  };
  const challengeOf = async (flow: string) => validChallenge(await kv.get(challengeKey(flow)));
  const recipientOf = (challenge: Challenge): Recipient => ({ channel: challenge.channel, address: challenge.address });

  const pending = async (flow: string): Promise<Recipient | undefined> => {
    const challenge = await challengeOf(flow);
    return challenge && recipientOf(challenge);
  };

  /**
   * Claims this flow's resend wait, or says how long is left of it. The wait is measured from the
   * last send's time by the clock; the store's expiry of the key only clears it away.
   */
  const claimResend = async (flow: string): Promise<number> => {
    const now = clock.now();
    // Kept well past the wait: on a busy machine the key must not vanish before the clock says so.
    const keepSeconds = settings.resendSeconds + 300;
    if (await kv.setIfAbsent(resendKey(flow), String(now), keepSeconds)) return 0;
    const wait = Math.ceil((Number(await kv.get(resendKey(flow))) + settings.resendSeconds * 1000 - now) / 1000);
    if (wait > 0) return wait;
    await kv.write([{ op: 'set', key: resendKey(flow), value: String(now), ttlSeconds: keepSeconds }]);
    return 0;
  };

  /** Whole seconds until this flow may ask for a new code (0: now), for the page's countdown. */
  const waitAfter = (sent: string | null | undefined): number =>
    sent ? Math.max(0, Math.ceil((Number(sent) + settings.resendSeconds * 1000 - clock.now()) / 1000)) : 0;
  const resendWait = async (flow: string): Promise<number> => waitAfter(await kv.get(resendKey(flow)));

  /**
   * `pending` and `resendWait` together, in one round trip (the flow's keys share a Cluster slot):
   * what a code page shows.
   */
  const waiting = async (flow: string): Promise<{ recipient: Recipient; resendIn: number } | undefined> => {
    const [raw, sent] = await kv.getMany([challengeKey(flow), resendKey(flow)]);
    const challenge = validChallenge(raw);
    return challenge && { recipient: recipientOf(challenge), resendIn: waitAfter(sent) };
  };

  const codesFor = (purpose: CodePurpose) => ({
    pending,
    resendWait,
    waiting,

    /** Sends a fresh code (replacing any earlier one), unless this flow was sent one moments ago or a budget is spent. */
    async start(flow: string, recipient: Recipient, requester: Requester): Promise<StartResult> {
      const told = (outcome: SendOutcome) => deps.onSend?.(recipient.channel, purpose, outcome);
      const identifier = identifierOf(recipient);
      // The recipient's lock is read alongside the resend claim (one round trip); a read has no effect
      // when the claim refuses.
      const identifierLock = abuse.lockedUntil(identifier);
      const [wait] = await Promise.all([claimResend(flow), identifierLock]);
      if (wait > 0) {
        told('resend_wait');
        return { status: 'throttled', reason: 'resend', retryAfter: wait };
      }
      const verdict = await abuse.allowSend({ identifier, identifierLock, ...requester });
      // Nothing was sent, so this flow's resend wait must not hold the person back (nor claim "a code was just sent").
      if (verdict.status !== 'allowed') await kv.del(resendKey(flow));
      if (verdict.status === 'locked') {
        told('locked_out');
        return { status: 'locked_out', until: verdict.until };
      }
      if (verdict.status === 'limited') {
        told('limited');
        return { status: 'throttled', reason: 'limited', retryAfter: verdict.retryAfter };
      }
      const code = String(randomInt(1_000_000)).padStart(6, '0');
      const challenge: Challenge = {
        ...recipient,
        hash: digest(flow, recipient, code),
        expiresAt: clock.now() + settings.ttl * 1000,
      };
      // Sent together: with Redis's auto-pipelining one round trip, still in this order.
      await Promise.all([
        kv.del(attemptsKey(flow)),
        kv.write([{ op: 'set', key: challengeKey(flow), value: JSON.stringify(challenge), ttlSeconds: settings.ttl }]),
      ]);
      try {
        await deps.deliver(recipient, code, purpose, requester.locale ?? DEFAULT_LOCALE);
      } catch (error) {
        told('delivery_failed');
        // Nothing was delivered, so nothing may be redeemed and the person may retry at once.
        await kv.del(challengeKey(flow), resendKey(flow));
        throw error;
      }
      told('sent');
      return { status: 'sent' };
    },

    async verify(flow: string, code: string, requester: Requester): Promise<VerifyResult> {
      const challenge = await challengeOf(flow);
      // A locked code is gone, but its spent attempts stay counted until a new code is sent.
      if (!challenge)
        return Number(await kv.get(attemptsKey(flow))) >= settings.maxAttempts
          ? { status: 'locked' }
          : { status: 'expired' };
      const recipient = recipientOf(challenge);
      const outcome = await check(flow, code, requester, challenge, recipient);
      return outcome.status === 'ok' ? outcome : { ...outcome, recipient };
    },
  });

  /** `verify` once the pending code is known. */
  async function check(
    flow: string,
    code: string,
    requester: Requester,
    challenge: Challenge,
    recipient: Recipient,
  ): Promise<VerifyResult> {
    const identifier = identifierOf(recipient);
    const verdict = await abuse.allowCheck({ identifier, ...requester });
    if (verdict.status === 'locked') return { status: 'locked_out', until: verdict.until };
    if (verdict.status === 'limited') return verdict;
    const attempts = await kv.increment(attemptsKey(flow), settings.ttl);
    if (attempts > settings.maxAttempts) {
      await kv.del(challengeKey(flow));
      // This code is used up; the code entered was never compared, so it is no failure of the identifier's.
      await abuse.releaseCheck(identifier);
      return { status: 'locked' };
    }
    if (!sameDigest(challenge.hash, digest(flow, recipient, code))) {
      const lockout = await abuse.recordFailure(identifier);
      if (lockout) {
        await kv.del(challengeKey(flow));
        return { status: 'locked_out', until: lockout.until, started: true };
      }
      const attemptsLeft = settings.maxAttempts - attempts;
      if (attemptsLeft === 0) await kv.del(challengeKey(flow));
      return attemptsLeft === 0 ? { status: 'locked' } : { status: 'wrong', attemptsLeft };
    }
    // Single use: of two concurrent correct submissions only the one that deletes the challenge wins.
    // The identifier's failures are cleared in the same round trip, whichever wins: only the right
    // code gets here, and clearing them also gives back the place allowCheck held for this check.
    const [consumed] = await Promise.all([kv.del(challengeKey(flow)), abuse.recordSuccess(identifier)]);
    return consumed === 1 ? { status: 'ok', recipient } : { status: 'expired' };
  }

  return { for: codesFor };
}

export type OneTimeCodes = ReturnType<ReturnType<typeof createOneTimeCodes>['for']>;

function sameDigest(a: string, b: string) {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
