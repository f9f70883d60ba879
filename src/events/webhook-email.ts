import { DEFAULT_LOCALE } from '../i18n/locales.ts';
import { type Text, translator } from '../i18n/translator.ts';
import type { EmailMessage } from '../notifications/message.ts';

/**
 * What the owners of an endpoint are told when FairyID stops sending to it. No request causes it
 * (the dispatcher gives up on the endpoint) and nobody's language is stored, so it is in English,
 * as is the reason the API reports.
 */
export function webhookDisabledEmail(
  to: string,
  endpoint: { url: string; reason: string; where: Text; link: string },
): EmailMessage {
  const words = translator(DEFAULT_LOCALE);
  return {
    to,
    subject: words.t('email.webhookDisabled.subject'),
    text: words.t('email.webhookDisabled.body', { ...endpoint }),
  };
}
