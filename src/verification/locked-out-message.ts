import { durationText } from '../i18n/duration.ts';
import { type Text, text } from '../i18n/translator.ts';

/**
 * How long a lock has left, as a person reads it ("for 15 minutes"): a wait means the same on every
 * device and in every time zone, where a clock time ("until 12:18 UTC") has to be converted first.
 * Names what is locked: the email address, the phone number, or else the account.
 */
export function lockedOutMessage(secondsLeft: number, locked: 'email' | 'sms' | 'account' = 'account'): Text {
  return text(`verification.lockedOut.${locked}`, { wait: durationText(Math.max(1, secondsLeft)) });
}
