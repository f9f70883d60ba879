/**
 * The time that time-based rules read (lockouts, code expiry, resend waits), injected so that tests
 * move time forward instead of sleeping. Milliseconds since the epoch, like Date.now().
 */
export type Clock = { now(): number };

export const systemClock: Clock = { now: () => Date.now() };
