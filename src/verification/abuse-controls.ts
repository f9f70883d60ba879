import type { Config, Rate } from '../config.ts';
import type { KeyValueStore } from '../db/key-value.ts';
import { type Clock, systemClock } from '../shared/clock.ts';

/**
 * What a code is sent to or checked against: `email:a@b.example`, `phone:+15551234567`, or
 * `account:<id>` for factors that belong to an account (TOTP, backup codes).
 */
export type Identifier = `${'email' | 'phone' | 'account'}:${string}`;

export type Verdict =
  | { status: 'allowed' }
  /** A budget is spent: retry after that many seconds. */
  | { status: 'limited'; retryAfter: number }
  /** Too many failures: the identifier is locked until then. */
  | { status: 'locked'; until: Date };

type Request = {
  identifier: Identifier;
  ip: string | null;
  accountId?: string | undefined;
  /** The identifier's lock, when the caller read it (lockedUntil) together with work of its own. */
  identifierLock?: Promise<Date | undefined>;
};

/**
 * Abuse controls shared by every path that sends or checks a code. Counters are fixed windows in
 * the key-value store, so every instance on one Redis shares them and a restart forgets nothing; a
 * window opens with its first event and closes by the clock, like lockouts.
 *
 * Sends are limited per recipient (an inbox or phone cannot be flooded), per IP (one client cannot
 * spray many recipients) and per account (all of a person's channels together). Checks have the
 * same three budgets; on top, repeated failures lock the identifier, and the person is told when
 * it unlocks. The per-code attempt limit (one-time-codes.ts) still applies within each code.
 */
export function createAbuseControls(kv: KeyValueStore, limits: Config['limits'], clock: Clock = systemClock) {
  const lockKey = (identifier: Identifier) => `abuse:lock:${identifier}`;
  // Counters are rate windows (hashes in Redis), named apart from the plain counters that earlier
  // versions kept under `abuse:<kind>:`, which a shared Redis may still hold until they expire.
  const failuresKey = (identifier: Identifier) => `abuse:window:failures:${identifier}`;
  const deviceGuessesKey = (ip: string) => `abuse:window:device-guesses:${ip}`;

  /** Counts one event against a budget; the count past `max` is refused with the window's remaining time. */
  const spend = async (key: string, rate: Rate): Promise<Exclude<Verdict, { status: 'locked' }>> => {
    const now = clock.now();
    const { count, openedAt } = await kv.countInWindow(key, rate.windowSeconds, now);
    if (count <= rate.max) return { status: 'allowed' };
    return {
      status: 'limited',
      retryAfter: Math.max(1, Math.ceil((openedAt + rate.windowSeconds * 1000 - now) / 1000)),
    };
  };

  const lockedUntil = async (identifier: Identifier): Promise<Date | undefined> => {
    const until = await kv.get(lockKey(identifier));
    // By the lock's own time, not the store's expiry, so a lock ends when the clock says so.
    return until && Number(until) > clock.now() ? new Date(Number(until)) : undefined;
  };

  const budgets = async (
    request: Request,
    perRecipient: Rate,
    perIp: Rate,
    perAccount: Rate,
    kind: 'send' | 'check',
  ) => {
    // Both locks in one round trip (reads only).
    const [identifierLock, accountLock] = await Promise.all([
      request.identifierLock ?? lockedUntil(request.identifier),
      request.accountId ? lockedUntil(`account:${request.accountId}`) : undefined,
    ]);
    const locked = identifierLock ?? accountLock;
    if (locked) return { status: 'locked', until: locked } satisfies Verdict;
    const checks: [string, Rate][] = [[`abuse:window:${kind}:${request.identifier}`, perRecipient]];
    if (request.ip) checks.push([`abuse:window:${kind}:ip:${request.ip}`, perIp]);
    if (request.accountId && `account:${request.accountId}` !== request.identifier) {
      checks.push([`abuse:window:${kind}:account:${request.accountId}`, perAccount]);
    }
    // Counted together, in one round trip. The budgets after the first spent one give their count
    // back, so the counts end as if they had been asked in turn and the asking had stopped there.
    const verdicts = await Promise.all(checks.map(([key, rate]) => spend(key, rate)));
    const refused = verdicts.findIndex((verdict) => verdict.status !== 'allowed');
    const verdict = verdicts[refused];
    if (!verdict) return { status: 'allowed' } satisfies Verdict;
    await Promise.all(checks.slice(refused + 1).map(([key]) => kv.uncount(key)));
    return verdict;
  };

  return {
    lockedUntil,

    /** Before sending a code: counts the send, or says why not. */
    allowSend(request: Request): Promise<Verdict> {
      return budgets(request, limits.sendsPerRecipient, limits.sendsPerIp, limits.sendsPerAccount, 'send');
    },

    /**
     * Before checking a code or factor: counts the attempt, or says why not. An allowed check also
     * holds a place among the identifier's failures while it runs, taken with an atomic increment,
     * so that parallel wrong codes cannot all pass the lockout check before any of them is counted.
     * The caller ends it with recordFailure (kept), recordSuccess, or releaseCheck (neither).
     */
    async allowCheck(request: Request): Promise<Verdict> {
      const verdict = await budgets(
        request,
        limits.checksPerRecipient,
        limits.checksPerIp,
        limits.checksPerAccount,
        'check',
      );
      if (verdict.status !== 'allowed') return verdict;
      const key = failuresKey(request.identifier);
      const { count: held } = await kv.countInWindow(key, limits.lockoutAfterFailures.windowSeconds, clock.now());
      // Looked at again after the increment: a lockout that started meanwhile cleared the count this
      // place was taken in, but it set the lock before it did.
      const locked = await lockedUntil(request.identifier);
      if (held <= limits.lockoutAfterFailures.max && !locked) return verdict;
      await kv.uncount(key);
      // Without a lock yet, failures and checks in flight already reach it: this one waits for them to settle.
      return locked ? { status: 'locked', until: locked } : { status: 'limited', retryAfter: 1 };
    },

    /** An allowed check that ended neither right nor wrong (an expired or used-up code): its place is given back. */
    async releaseCheck(identifier: Identifier): Promise<void> {
      await kv.uncount(failuresKey(identifier));
    },

    /**
     * A wrong code or factor, whose place allowCheck already counted: returns the lockout when this
     * failure starts one. Under a burst several failures may see the count reach the limit; only
     * the one that sets the lock starts it.
     */
    async recordFailure(identifier: Identifier): Promise<{ status: 'locked'; until: Date } | undefined> {
      const failures = await kv.windowCount(
        failuresKey(identifier),
        limits.lockoutAfterFailures.windowSeconds,
        clock.now(),
      );
      if (failures < limits.lockoutAfterFailures.max) return undefined;
      const until = new Date(clock.now() + limits.lockoutSeconds * 1000);
      if (!(await kv.setIfAbsent(lockKey(identifier), String(until.getTime()), limits.lockoutSeconds)))
        return undefined;
      await kv.del(failuresKey(identifier));
      return { status: 'locked', until };
    },

    /** A correct code: earlier failures no longer count towards a lockout. */
    async recordSuccess(identifier: Identifier): Promise<void> {
      await kv.del(failuresKey(identifier));
    },

    /**
     * Device-flow user codes (RFC 8628 5.1): before a code is looked up, reserves one guess of the
     * IP's budget, counting atomically so that parallel guesses cannot all pass one check before any
     * of them is counted. Only wrong guesses stay spent: see releaseDeviceGuess.
     */
    async reserveDeviceGuess(ip: string) {
      const key = deviceGuessesKey(ip);
      const verdict = await spend(key, limits.deviceCodeGuessesPerIp);
      // A refused guess is never looked up, so it holds no slot: the count stays the wrong guesses
      // plus those in flight, and the budget comes back whole when the window ends.
      if (verdict.status !== 'allowed') await kv.uncount(key);
      return verdict;
    },

    /** A reserved guess that was not a wrong code (a right one, or no lookup at all): it does not count. */
    async releaseDeviceGuess(ip: string): Promise<void> {
      await kv.uncount(deviceGuessesKey(ip));
    },
  };
}

export type AbuseControls = ReturnType<typeof createAbuseControls>;
