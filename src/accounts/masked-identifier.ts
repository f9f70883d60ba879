/**
 * Identifiers as the audit trail keeps them: enough for the person to recognise their own address
 * or number, not enough to hand a full one to whoever reads the log.
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

/** An E.164 number with only its last four digits: +14155552671 becomes +*******2671. */
export function maskPhoneNumber(e164: string): string {
  const digits = e164.replace(/^\+/, '');
  if (digits.length <= 4) return '+****';
  return `+${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}

/**
 * An identifier as the second step of a sign-in shows it: the person has so far proved only the
 * other channel, so the page (and its HTML) must not hand over the full number or address. A phone
 * shows its last four digits ("••• 2673"); an email its first letter and its domain.
 */
export function maskForSecondStep(channel: 'email' | 'sms', address: string): string {
  if (channel === 'email') return maskEmail(address);
  const digits = address.replace(/\D/g, '');
  return `••• ${digits.slice(-4)}`;
}
