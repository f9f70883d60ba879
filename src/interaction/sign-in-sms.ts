import type { SmsMessage } from '../notifications/message.ts';

/**
 * Short, because a text message is. The last line is an origin-bound one-time code
 * (https://wicg.github.io/sms-one-time-codes/): browsers that read it offer the code for autofill
 * only on this site, so a look-alike site cannot collect it that way. The format names a host
 * without a port, and implies https.
 */
export function signInCodeSms(to: string, code: string, lifetime: string, issuer: string): SmsMessage {
  return {
    to,
    text: `${code} is your FairyID sign-in code. It expires in ${lifetime}. Do not share it.\n\n@${new URL(issuer).hostname} #${code}`,
  };
}
