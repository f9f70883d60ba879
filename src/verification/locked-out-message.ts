import { describeDuration } from '../shared/duration.ts';

const LOCKED_SUBJECT = {
  email: 'with this email address',
  sms: 'with this phone number',
  account: 'to this account',
} as const;

/**
 * How long a lock has left, as a person reads it ("for 15 minutes"): a wait means the same on every
 * device and in every time zone, where a clock time ("until 12:18 UTC") has to be converted first.
 */
export function lockedOutMessage(secondsLeft: number, locked: keyof typeof LOCKED_SUBJECT = 'account') {
  return `Too many wrong codes. Signing in ${LOCKED_SUBJECT[locked]} is locked for ${describeDuration(Math.max(1, secondsLeft))}.`;
}
