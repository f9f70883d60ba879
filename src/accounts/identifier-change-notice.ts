import type { Logger } from 'pino';
import type { Locale } from '../i18n/locales.ts';
import { translator } from '../i18n/translator.ts';
import type { Mailer, SmsSender } from '../notifications/message.ts';
import { identifierChangedNoticeEmail, identifierChangedNoticeSms } from './identifier-change-message.ts';
import type { Recipient } from '../verification/one-time-codes.ts';

/**
 * Tells the identifier an account just left that it did (the new one shown masked), so a person
 * whose account was moved elsewhere hears of it where they still read. The change stands whether
 * or not the notice gets through; a failed one is logged.
 */
export function createIdentifierChangeNotice(deps: {
  mailer: Mailer;
  sms: SmsSender | undefined;
  issuer: string;
  log: Logger;
}) {
  return async function notifyPrevious(previous: Recipient, newMasked: string, locale: Locale): Promise<void> {
    const words = translator(locale);
    const message =
      previous.channel === 'email'
        ? deps.mailer.send(identifierChangedNoticeEmail(previous.address, newMasked, deps.issuer, words))
        : deps.sms?.send(identifierChangedNoticeSms(previous.address, newMasked, words));
    await Promise.resolve(message).catch((error: unknown) =>
      deps.log.warn({ err: error }, 'could not notify the previous sign-in identifier'),
    );
  };
}
