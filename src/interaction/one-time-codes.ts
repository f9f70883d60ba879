import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { KeyValueStore } from '../db/key-value.ts';

export type OneTimeCodeSettings = { ttl: number; maxAttempts: number; resendSeconds: number; maxSendsPerHour: number };

type Challenge = { email: string; hash: string };

export type StartResult = { status: 'sent' } | { status: 'throttled'; reason: 'resend' | 'hourly'; retryAfter: number };
export type VerifyResult =
  | { status: 'ok'; email: string }
  | { status: 'wrong'; attemptsLeft: number }
  | { status: 'expired' }
  | { status: 'locked' };

/**
 * Six-digit codes bound to one sign-in interaction: a code works only in the browser that asked
 * for it, once, within its lifetime and its attempt budget.
 */
export function createOneTimeCodes(deps: {
  kv: KeyValueStore;
  secret: string;
  settings: OneTimeCodeSettings;
  deliver: (email: string, code: string) => Promise<void>;
}) {
  const { kv, settings } = deps;
  // One hash tag per sign-in keeps its keys in one Redis Cluster slot.
  const challengeKey = (uid: string) => `otp:{${uid}}:challenge`;
  const attemptsKey = (uid: string) => `otp:{${uid}}:attempts`;
  const resendKey = (uid: string) => `otp:{${uid}}:resend`;
  const hourlyKey = (email: string) => `otp:sends:${email}`;
  const digest = (uid: string, email: string, code: string) =>
    createHmac('sha256', deps.secret).update(`${uid}\n${email}\n${code}`).digest('base64url');

  return {
    async pendingEmail(uid: string): Promise<string | undefined> {
      const raw = await kv.get(challengeKey(uid));
      return raw ? (JSON.parse(raw) as Challenge).email : undefined;
    },

    /**
     * Sends a fresh code (replacing any earlier one), unless this sign-in was sent one moments ago
     * or the address has had its hourly share, which keeps anyone from flooding an inbox.
     */
    async start(uid: string, email: string): Promise<StartResult> {
      if (!(await kv.setIfAbsent(resendKey(uid), '1', settings.resendSeconds))) {
        return { status: 'throttled', reason: 'resend', retryAfter: Math.max(1, await kv.ttl(resendKey(uid))) };
      }
      if ((await kv.increment(hourlyKey(email), 3600)) > settings.maxSendsPerHour) {
        return { status: 'throttled', reason: 'hourly', retryAfter: Math.max(1, await kv.ttl(hourlyKey(email))) };
      }
      const code = String(randomInt(1_000_000)).padStart(6, '0');
      const challenge: Challenge = { email, hash: digest(uid, email, code) };
      await kv.del(attemptsKey(uid));
      await kv.write([{ op: 'set', key: challengeKey(uid), value: JSON.stringify(challenge), ttlSeconds: settings.ttl }]);
      try {
        await deps.deliver(email, code);
      } catch (error) {
        // Nothing was delivered, so nothing may be redeemed and the person may retry at once.
        await kv.del(challengeKey(uid), resendKey(uid));
        throw error;
      }
      return { status: 'sent' };
    },

    async verify(uid: string, code: string): Promise<VerifyResult> {
      const raw = await kv.get(challengeKey(uid));
      // A locked code is gone, but its spent attempts stay counted until a new code is sent.
      if (!raw) return Number(await kv.get(attemptsKey(uid))) >= settings.maxAttempts ? { status: 'locked' } : { status: 'expired' };
      const challenge = JSON.parse(raw) as Challenge;
      const attempts = await kv.increment(attemptsKey(uid), settings.ttl);
      if (attempts > settings.maxAttempts) {
        await kv.del(challengeKey(uid));
        return { status: 'locked' };
      }
      if (!sameDigest(challenge.hash, digest(uid, challenge.email, code))) {
        const attemptsLeft = settings.maxAttempts - attempts;
        if (attemptsLeft === 0) await kv.del(challengeKey(uid));
        return attemptsLeft === 0 ? { status: 'locked' } : { status: 'wrong', attemptsLeft };
      }
      // Single use: of two concurrent correct submissions only the one that deletes the challenge wins.
      const consumed = await kv.del(challengeKey(uid));
      return consumed === 1 ? { status: 'ok', email: challenge.email } : { status: 'expired' };
    },
  };
}

export type OneTimeCodes = ReturnType<typeof createOneTimeCodes>;

function sameDigest(a: string, b: string) {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
