const LOCKED_SUBJECT = { email: 'with this email address', sms: 'with this phone number', account: 'to this account' } as const;

/**
 * The unlock time as a person reads it, in UTC so that it is the same on every device; with the
 * date when that is not today.
 */
export function lockedOutMessage(until: Date, locked: keyof typeof LOCKED_SUBJECT = 'account') {
  const iso = until.toISOString();
  const sameDay = iso.slice(0, 10) === new Date().toISOString().slice(0, 10);
  const time = `${sameDay ? '' : `${iso.slice(0, 10)} `}${iso.slice(11, 16)} UTC`;
  return `Too many wrong codes. Signing in ${LOCKED_SUBJECT[locked]} is locked until ${time}.`;
}
