import type { Text, Translator } from '../i18n/translator.ts';
import type { EmailMessage, SmsMessage } from '../notifications/message.ts';

/**
 * The code that proves a person receives mail at the address they are moving their account to.
 * It says what it is for, unlike a sign-in code, so that someone who did not ask knows that a
 * signed-in person typed their address, and that ignoring it keeps it off that account.
 */
export function identifierChangeEmail(to: string, code: string, lifetime: Text, words: Translator): EmailMessage {
  return {
    to,
    subject: words.t('email.identifierChange.subject', { code }),
    text: words.t('email.identifierChange.body', { code, lifetime }),
  };
}

/** As the email, in a text message's few words; the last line is an origin-bound code as in sign-in-sms.ts. */
export function identifierChangeSms(
  to: string,
  code: string,
  lifetime: Text,
  issuer: string,
  words: Translator,
): SmsMessage {
  return { to, text: words.t('sms.identifierChange', { code, lifetime, host: new URL(issuer).hostname }) };
}

/**
 * To the address an account has just moved away from: if someone else moved it (a stolen session
 * with a recent sign-in), this is how the owner finds out while there is still time to act.
 */
export function identifierChangedNoticeEmail(
  to: string,
  newAddress: string,
  issuer: string,
  words: Translator,
): EmailMessage {
  return {
    to,
    subject: words.t('email.identifierChanged.subject'),
    text: words.t('email.identifierChanged.body', { address: newAddress, link: `${issuer}/account` }),
  };
}

export function identifierChangedNoticeSms(to: string, newNumber: string, words: Translator): SmsMessage {
  return { to, text: words.t('sms.identifierChanged', { number: newNumber }) };
}
