import type { Translator } from '../i18n/translator.ts';
import type { EmailMessage, SmsMessage } from '../notifications/message.ts';

/** Sent to the address an account had, once the account is deleted: its owner learns of it if it was not them. */
export function accountDeletedEmail(to: string, issuer: string, words: Translator): EmailMessage {
  return {
    to,
    subject: words.t('email.accountDeleted.subject'),
    text: words.t('email.accountDeleted.body', { link: `${issuer}/account` }),
  };
}

export function accountDeletedSms(to: string, issuer: string, words: Translator): SmsMessage {
  return { to, text: words.t('sms.accountDeleted', { link: `${issuer}/account` }) };
}
