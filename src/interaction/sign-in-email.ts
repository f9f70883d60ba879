import type { Text, Translator } from '../i18n/translator.ts';
import type { EmailMessage } from '../notifications/message.ts';

export function signInCodeEmail(to: string, code: string, lifetime: Text, words: Translator): EmailMessage {
  return {
    to,
    subject: words.t('email.signIn.subject', { code }),
    text: words.t('email.signIn.body', { code, lifetime }),
  };
}
