const LOCKED_SUBJECT = {
  email: 'with this email address',
  sms: 'with this phone number',
  account: 'to this account',
} as const;

/**
 * An unlock time as a person reads it, in UTC so that it is the same on every device; with the
 * date when that is not today.
 */
export function describeUnlockTime(until: Date): string {
  const iso = until.toISOString();
  const sameDay = iso.slice(0, 10) === new Date().toISOString().slice(0, 10);
  return `${sameDay ? '' : `${iso.slice(0, 10)} `}${iso.slice(11, 16)} UTC`;
}

export function lockedOutMessage(until: Date, locked: keyof typeof LOCKED_SUBJECT = 'account') {
  return `Too many wrong codes. Signing in ${LOCKED_SUBJECT[locked]} is locked until ${describeUnlockTime(until)}.`;
}
