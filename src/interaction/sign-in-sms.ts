import type { Text, Translator } from '../i18n/translator.ts';
import type { SmsMessage } from '../notifications/message.ts';

/**
 * Short, because a text message is. The last line is an origin-bound one-time code
 * (https://wicg.github.io/sms-one-time-codes/): browsers that read it offer the code for autofill
 * only on this site, so a look-alike site cannot collect it that way. The format names a host
 * without a port, and implies https.
 */
export function signInCodeSms(to: string, code: string, lifetime: Text, issuer: string, words: Translator): SmsMessage {
  return { to, text: words.t('sms.signIn', { code, lifetime, host: new URL(issuer).hostname }) };
}
